//! Automatic persisted queries: a client sends a document's SHA-256 instead of the document
//! once the server knows it.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use lru::LruCache;
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// Automatic persisted queries (Apollo's `extensions.persistedQuery` protocol): documents
/// by SHA-256, per instance, least recently used dropped first.
///
/// Done here rather than with async-graphql's extension: with any extension registered, the
/// engine resolves every field through its slower instrumented path.
pub struct PersistedQueries(Mutex<LruCache<String, String>>);

impl PersistedQueries {
    /// A cache of `capacity` documents.
    pub fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity.max(1)).unwrap_or(NonZeroUsize::MIN);
        Self(Mutex::new(LruCache::new(capacity)))
    }

    /// Completes a request that names a persisted query: fills in the document from its
    /// hash, or remembers the document under it. `Err` is the error to answer.
    pub(super) fn resolve(&self, request: &mut async_graphql::Request) -> Result<(), AppError> {
        let Some(ext) = request.extensions.remove("persistedQuery") else {
            return Ok(());
        };
        let json = ext.into_json().unwrap_or_default();
        let (Some(1), Some(hash)) = (json["version"].as_i64(), json["sha256Hash"].as_str()) else {
            return Err(AppError::bad_input(
                "persistedQuery needs version 1 and a sha256Hash",
            ));
        };
        let hash = hash.to_ascii_lowercase();
        let Ok(mut cache) = self.0.lock() else {
            return Err(AppError::PersistedQueryNotFound);
        };
        if request.query.is_empty() {
            match cache.get(&hash) {
                Some(query) => {
                    request.query = query.clone();
                    Ok(())
                }
                // The message and code Apollo clients look for to send the document once.
                None => Err(AppError::PersistedQueryNotFound),
            }
        } else {
            let actual = format!("{:x}", Sha256::digest(request.query.as_bytes()));
            if actual != hash {
                return Err(AppError::bad_input(
                    "persistedQuery.sha256Hash is not the SHA-256 of the query",
                ));
            }
            cache.put(hash, request.query.clone());
            Ok(())
        }
    }
}
