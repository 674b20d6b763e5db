//! Input validation: every refusal is BAD_USER_INPUT and names the field.

use chrono::{DateTime, Utc};

use crate::error::{AppError, AppResult};

/// Longest title or name.
pub const MAX_TITLE: usize = 200;
/// Longest description, statement or comment.
pub const MAX_DESCRIPTION: usize = 10_000;
/// Longest key (slug) or code.
pub const MAX_KEY: usize = 64;
/// Most list entries (services of a change, skills, …) one input may carry.
pub const MAX_LIST: usize = 100;

/// A required, trimmed, non-empty text of at most `max` characters.
pub fn text(field: &str, value: &str, max: usize) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::bad_input(format!("`{field}` must not be empty")));
    }
    long_text(field, value, max)
}

/// An optional text of at most `max` characters (may be empty), trimmed.
pub fn long_text(field: &str, value: &str, max: usize) -> AppResult<String> {
    let value = value.trim();
    let n = value.chars().count();
    if n > max {
        return Err(AppError::bad_input(format!(
            "`{field}` has {n} characters; at most {max} are allowed"
        )));
    }
    Ok(value.to_owned())
}

/// A key: lower-case letters and digits in hyphen-separated words, e.g. `change-management`.
pub fn key(field: &str, value: &str) -> AppResult<String> {
    let value = text(field, value, MAX_KEY)?;
    let ok = value.split('-').all(|w| {
        !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    });
    if !ok {
        return Err(AppError::bad_input(format!(
            "`{field}` must be lower-case letters and digits in hyphen-separated words (like `change-management`), not {value:?}"
        )));
    }
    Ok(value)
}

/// A project code: upper-case letters, digits and hyphens, e.g. `PRJ-2026-01`.
pub fn code(field: &str, value: &str) -> AppResult<String> {
    let value = text(field, value, MAX_KEY)?;
    if !value
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(AppError::bad_input(format!(
            "`{field}` must be upper-case letters, digits and hyphens, not {value:?}"
        )));
    }
    Ok(value)
}

/// An e-mail address, normalised to lower case.
pub fn email(field: &str, value: &str) -> AppResult<String> {
    let value = text(field, value, 254)?.to_lowercase();
    if !email_address::EmailAddress::is_valid(&value) || !value.contains('.') {
        return Err(AppError::bad_input(format!(
            "`{field}` is not a valid e-mail address: {value:?}"
        )));
    }
    Ok(value)
}

/// A list of at most [`MAX_LIST`] entries.
pub fn list<T>(field: &str, items: &[T]) -> AppResult<()> {
    if items.len() > MAX_LIST {
        return Err(AppError::bad_input(format!(
            "`{field}` has {} entries; at most {MAX_LIST} are allowed",
            items.len()
        )));
    }
    Ok(())
}

/// Skills: each a non-empty text of at most 100 characters, duplicates dropped.
pub fn skills(field: &str, items: &[String]) -> AppResult<Vec<String>> {
    list(field, items)?;
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for s in items {
        let s = text(field, s, 100)?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// A planned window (rule 4): both ends or neither, start strictly before end.
pub fn window(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> AppResult<()> {
    match (start, end) {
        (Some(s), Some(e)) if s >= e => Err(AppError::bad_input(format!(
            "`plannedStart` ({}) must be before `plannedEnd` ({})",
            s.to_rfc3339(),
            e.to_rfc3339()
        ))),
        (Some(_), None) => Err(AppError::bad_input(
            "`plannedEnd` is missing: a planned window has both ends",
        )),
        (None, Some(_)) => Err(AppError::bad_input(
            "`plannedStart` is missing: a planned window has both ends",
        )),
        _ => Ok(()),
    }
}

/// Ids without repeats, in first-seen order.
pub fn distinct(ids: &[i64]) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::with_capacity(ids.len());
    for id in ids {
        if !out.contains(id) {
            out.push(*id);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_trimmed_and_bounded_in_characters_not_bytes() {
        assert_eq!(text("title", "  a  ", 5).ok().as_deref(), Some("a"));
        assert!(text("title", "   ", 5).is_err());
        assert!(text("title", "ééééé", 5).is_ok());
        assert!(text("title", "éééééé", 5).is_err());
    }

    #[test]
    fn malformed_emails_and_keys_are_refused() {
        assert!(email("email", "Ada@Example.org").is_ok_and(|e| e == "ada@example.org"));
        for bad in [
            "ada",
            "ada@",
            "@example.org",
            "a b@example.org",
            "ada@localhost",
        ] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
        assert!(key("key", "change-management").is_ok());
        for bad in ["Change", "a--b", "-a", "a_b", "a b"] {
            assert!(key("key", bad).is_err(), "{bad}");
        }
    }
}
