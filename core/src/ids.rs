//! Opaque global IDs: base64url of `Type:id`, the form the API shows every object's ID in.
//! Here so that what the core writes for clients outside the API (webhook payloads) names
//! objects exactly as the API does.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The global ID of row `id` of the GraphQL type `type_name`.
pub fn global(type_name: &str, id: i64) -> String {
    // A portal page encodes thousands of these: no formatting machinery, one allocation.
    let mut digits = itoa::Buffer::new();
    let (name, digits) = (type_name.as_bytes(), digits.format(id).as_bytes());
    let len = name.len() + 1 + digits.len();
    // Every type name of ours (at most 27 bytes) and any i64 (20 with its sign) fit.
    let mut raw = [0u8; 48];
    if len > raw.len() {
        return URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}"));
    }
    raw[..name.len()].copy_from_slice(name);
    raw[name.len()] = b':';
    raw[name.len() + 1..len].copy_from_slice(digits);
    URL_SAFE_NO_PAD.encode(&raw[..len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_global_id_is_the_base64url_of_type_and_id() {
        assert_eq!(global("Change", 42), URL_SAFE_NO_PAD.encode("Change:42"));
        assert_eq!(
            global("ProcessRoleAssignment", i64::MIN),
            URL_SAFE_NO_PAD.encode(format!("ProcessRoleAssignment:{}", i64::MIN))
        );
    }
}
