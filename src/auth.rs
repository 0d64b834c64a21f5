//! API tokens and who is calling.
//!
//! A token is 32 random bytes from the operating system, shown once when it
//! is created (`prt_` + base64url) and stored only as its SHA-256, so the
//! database never holds a usable credential. Requests carry it as
//! `Authorization: Bearer <token>`.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use entity::api_token;
pub use entity::enums::Role;
use rand::TryRngCore;
use rand::rngs::OsRng;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};
use sha2::{Digest, Sha256};

/// The primary's WAL position (in bytes) after a token's last write, shared
/// by every operation of one request: the later operations of a batch read
/// only once the replica has what the earlier ones wrote.
#[derive(Clone, Default)]
pub struct Written(Arc<AtomicI64>);

impl Written {
    /// Positions are positive; 0 stands for none.
    pub fn new(position: Option<i64>) -> Self {
        Written(Arc::new(AtomicI64::new(position.unwrap_or(0).max(0))))
    }

    pub fn get(&self) -> Option<i64> {
        Some(self.0.load(Ordering::SeqCst)).filter(|&position| position > 0)
    }

    /// Moves to `position` unless it is already further.
    pub fn advance(&self, position: i64) {
        self.0.fetch_max(position, Ordering::SeqCst);
    }
}

impl PartialEq for Written {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for Written {}

impl std::fmt::Debug for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Written").field(&self.get()).finish()
    }
}

/// Every token starts with this, so a leaked one is recognisable in a scan.
pub const TOKEN_PREFIX: &str = "prt_";

/// Who is making a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// No token: may read unless reads require a token.
    Anonymous,
    /// A valid, unrevoked token.
    Token {
        id: i64,
        name: String,
        role: Role,
        /// The primary's WAL position after the token's last write.
        written: Written,
    },
}

impl Caller {
    /// Whether the caller holds at least `needed`.
    pub fn has(&self, needed: Role) -> bool {
        match self {
            Caller::Anonymous => false,
            Caller::Token { role, .. } => rank(*role) >= rank(needed),
        }
    }

    /// The name recorded in the change history.
    /// The API token's row id; none without a token.
    pub fn token_id(&self) -> Option<i64> {
        match self {
            Caller::Anonymous => None,
            Caller::Token { id, .. } => Some(*id),
        }
    }

    /// Where the primary's WAL stood after the caller's last write, as far
    /// as this request knows: from the token's row when the request began,
    /// or from a write of the request itself since.
    pub fn written(&self) -> Option<&Written> {
        match self {
            Caller::Anonymous => None,
            Caller::Token { written, .. } => Some(written),
        }
    }

    pub fn actor(&self) -> &str {
        match self {
            Caller::Anonymous => "anonymous",
            Caller::Token { name, .. } => name,
        }
    }
}

fn rank(role: Role) -> u8 {
    match role {
        Role::Viewer => 1,
        Role::Editor => 2,
        Role::Admin => 3,
    }
}

/// Why a presented token was refused. The messages are safe to show.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the Authorization header must be `Bearer <token>`")]
    Malformed,
    #[error("the bearer token is not known")]
    Unknown,
    #[error("the bearer token has been revoked")]
    Revoked,
    #[error("the token could not be checked")]
    Database(#[from] DbErr),
    #[error("the token could not be checked in time")]
    TimedOut,
}

/// A fresh token: `prt_` and 43 base64url characters (256 bits).
pub fn generate() -> Result<String, rand::rand_core::OsError> {
    let mut bytes = [0u8; 32];
    OsRng.try_fill_bytes(&mut bytes)?;
    Ok(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The stored form of a token: its SHA-256, in lower-case hex.
pub fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The token in an `Authorization` header value, if it is `Bearer <token>`.
pub fn bearer(header: &str) -> Result<&str, AuthError> {
    let (scheme, token) = header.trim().split_once(' ').ok_or(AuthError::Malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(AuthError::Malformed);
    }
    Ok(token)
}

/// The caller a token stands for.
pub async fn authenticate(db: &impl ConnectionTrait, token: &str) -> Result<Caller, AuthError> {
    let row = api_token::Entity::find().filter(api_token::Column::TokenSha256.eq(hash(token))).one(db).await?;
    match row {
        None => Err(AuthError::Unknown),
        Some(row) if row.revoked_at.is_some() => Err(AuthError::Revoked),
        Some(row) => {
            Ok(Caller::Token { id: row.id, name: row.name, role: row.role, written: Written::new(row.written_lsn) })
        }
    }
}

/// Records a new token and returns it with its one and only plain-text copy.
pub async fn create(db: &impl ConnectionTrait, name: &str, role: Role) -> anyhow::Result<(api_token::Model, String)> {
    let name = name.trim();
    anyhow::ensure!(!name.is_empty(), "a token needs a name (who or what uses it)");
    // The name travels in every change it makes: keep it a name.
    anyhow::ensure!(name.chars().count() <= 100, "a token's name is at most 100 characters");
    let token = generate()?;
    let now = Utc::now();
    let row = api_token::ActiveModel {
        name: Set(name.to_owned()),
        token_sha256: Set(hash(&token)),
        role: Set(role),
        revoked_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((row, token))
}

/// Every token, oldest first.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<api_token::Model>, DbErr> {
    api_token::Entity::find().order_by_asc(api_token::Column::Id).all(db).await
}

/// Revokes the token with this id, or every active token with this name;
/// returns the tokens revoked.
pub async fn revoke(db: &impl ConnectionTrait, id_or_name: &str) -> Result<Vec<api_token::Model>, DbErr> {
    let active = api_token::Entity::find().filter(api_token::Column::RevokedAt.is_null());
    let targets = match id_or_name.parse::<i64>() {
        Ok(id) => active.filter(api_token::Column::Id.eq(id)).all(db).await?,
        Err(_) => active.filter(api_token::Column::Name.eq(id_or_name)).all(db).await?,
    };
    let now = Utc::now();
    let mut revoked = Vec::with_capacity(targets.len());
    for token in targets {
        let mut active: api_token::ActiveModel = token.into();
        active.revoked_at = Set(Some(now));
        active.updated_at = Set(now);
        revoked.push(active.update(db).await?);
    }
    Ok(revoked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_prefixed() {
        let a = generate().expect("the OS has randomness");
        let b = generate().expect("the OS has randomness");
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 43);
        assert_ne!(a, b);
    }

    #[test]
    fn only_the_hash_is_kept() {
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn bearer_headers_are_parsed_strictly() {
        assert_eq!(bearer("Bearer prt_x").ok(), Some("prt_x"));
        assert_eq!(bearer("bearer  prt_x ").ok(), Some("prt_x"));
        assert!(bearer("Basic dXNlcg==").is_err());
        assert!(bearer("Bearer").is_err());
        assert!(bearer("prt_x").is_err());
    }

    #[test]
    fn roles_include_the_weaker_ones() {
        let editor = Caller::Token { id: 1, name: "e".into(), role: Role::Editor, written: Written::default() };
        assert!(editor.has(Role::Viewer) && editor.has(Role::Editor) && !editor.has(Role::Admin));
        assert!(!Caller::Anonymous.has(Role::Viewer));
    }
}
