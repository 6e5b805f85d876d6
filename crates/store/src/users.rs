//! Accounts and login sessions of the review site.
//!
//! The store keeps password hashes and session-token hashes only; hashing passwords (argon2) and
//! making tokens is the review crate's job, so this module never sees a password or a cookie.
//! Sessions live in the database so that several review servers on one PostgreSQL share them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::entity::{sessions, users};
use crate::ops::{audit, now};
use crate::{Result, StoreError};

/// What a person may do in the review site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Everything, including accounts.
    Admin,
    /// Data entry: resolve review items and edit answers.
    Entry,
    /// Read only.
    Viewer,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 3] = [Role::Admin, Role::Entry, Role::Viewer];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Entry => "entry",
            Role::Viewer => "viewer",
        }
    }

    /// The Japanese name shown in the review site.
    pub fn label_ja(self) -> &'static str {
        match self {
            Role::Admin => "管理者",
            Role::Entry => "入力担当",
            Role::Viewer => "閲覧のみ",
        }
    }

    /// Whether this role may change data (resolve items, edit answers).
    pub fn can_edit(self) -> bool {
        matches!(self, Role::Admin | Role::Entry)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}`: use admin, entry or viewer"))
    }
}

/// The role of a stored user (an unknown stored role reads as viewer, the safe side).
pub fn role_of(user: &users::Model) -> Role {
    user.role.parse().unwrap_or(Role::Viewer)
}

/// Whether a login name is acceptable: 1–64 characters, no spaces or control characters.
pub fn valid_user_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=64).contains(&n) && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Creates an account with an already hashed password; refuses a name in use.
///
/// Callers check the name with [`valid_user_name`] first.
pub async fn create_user<C: ConnectionTrait>(
    conn: &C,
    name: &str,
    role: Role,
    password_hash: &str,
    actor: &str,
) -> Result<users::Model> {
    if user_by_name(conn, name).await?.is_some() {
        return Err(StoreError::Conflict(format!(
            "user `{name}` already exists"
        )));
    }
    let u = users::ActiveModel {
        name: Set(name.to_owned()),
        role: Set(role.as_str().to_owned()),
        password_hash: Set(password_hash.to_owned()),
        created_at: Set(now()),
        disabled: Set(false),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    audit(
        conn,
        actor,
        "user.create",
        "users",
        Some(u.id),
        serde_json::json!({"name": name, "role": role.as_str()}),
    )
    .await?;
    Ok(u)
}

/// The account with this login name.
pub async fn user_by_name<C: ConnectionTrait>(
    conn: &C,
    name: &str,
) -> Result<Option<users::Model>> {
    Ok(users::Entity::find()
        .filter(users::Column::Name.eq(name))
        .one(conn)
        .await?)
}

/// Every account, by name.
pub async fn list_users<C: ConnectionTrait>(conn: &C) -> Result<Vec<users::Model>> {
    Ok(users::Entity::find()
        .order_by_asc(users::Column::Name)
        .all(conn)
        .await?)
}

async fn user_by_id<C: ConnectionTrait>(conn: &C, id: i64) -> Result<users::Model> {
    users::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("user {id}")))
}

/// Disables or re-enables an account; disabling ends its sessions.
pub async fn set_user_disabled<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    disabled: bool,
    actor: &str,
) -> Result<users::Model> {
    let u = user_by_id(conn, user_id).await?;
    let name = u.name.clone();
    let mut a: users::ActiveModel = u.into();
    a.disabled = Set(disabled);
    let u = a.update(conn).await?;
    if disabled {
        delete_user_sessions(conn, user_id).await?;
    }
    audit(
        conn,
        actor,
        if disabled {
            "user.disable"
        } else {
            "user.enable"
        },
        "users",
        Some(user_id),
        serde_json::json!({"name": name}),
    )
    .await?;
    Ok(u)
}

/// Replaces an account's password hash and ends its sessions.
pub async fn set_password_hash<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    password_hash: &str,
    actor: &str,
) -> Result<()> {
    let u = user_by_id(conn, user_id).await?;
    let name = u.name.clone();
    let mut a: users::ActiveModel = u.into();
    a.password_hash = Set(password_hash.to_owned());
    a.update(conn).await?;
    delete_user_sessions(conn, user_id).await?;
    audit(
        conn,
        actor,
        "user.password",
        "users",
        Some(user_id),
        serde_json::json!({"name": name}),
    )
    .await?;
    Ok(())
}

/// Changes an account's role.
pub async fn set_user_role<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    role: Role,
    actor: &str,
) -> Result<users::Model> {
    let u = user_by_id(conn, user_id).await?;
    let (name, old) = (u.name.clone(), u.role.clone());
    let mut a: users::ActiveModel = u.into();
    a.role = Set(role.as_str().to_owned());
    let u = a.update(conn).await?;
    audit(
        conn,
        actor,
        "user.role",
        "users",
        Some(user_id),
        serde_json::json!({"name": name, "old": old, "new": role.as_str()}),
    )
    .await?;
    Ok(u)
}

/// Stores a new session under the hash of its token.
pub async fn create_session<C: ConnectionTrait>(
    conn: &C,
    token_hash: &str,
    user_id: i64,
    csrf_token: &str,
    expires_at: DateTime<Utc>,
) -> Result<sessions::Model> {
    Ok(sessions::ActiveModel {
        id: Set(token_hash.to_owned()),
        user_id: Set(user_id),
        csrf_token: Set(csrf_token.to_owned()),
        created_at: Set(now()),
        expires_at: Set(expires_at),
    }
    .insert(conn)
    .await?)
}

/// The live session with this token hash and its (enabled) user; expired sessions are deleted.
pub async fn session_user<C: ConnectionTrait>(
    conn: &C,
    token_hash: &str,
) -> Result<Option<(sessions::Model, users::Model)>> {
    let Some(s) = sessions::Entity::find_by_id(token_hash).one(conn).await? else {
        return Ok(None);
    };
    if s.expires_at <= now() {
        delete_session(conn, token_hash).await?;
        return Ok(None);
    }
    match users::Entity::find_by_id(s.user_id).one(conn).await? {
        Some(u) if !u.disabled => Ok(Some((s, u))),
        _ => Ok(None),
    }
}

/// Ends one session (logout).
pub async fn delete_session<C: ConnectionTrait>(conn: &C, token_hash: &str) -> Result<()> {
    sessions::Entity::delete_by_id(token_hash)
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends every session of a user.
pub async fn delete_user_sessions<C: ConnectionTrait>(conn: &C, user_id: i64) -> Result<u64> {
    Ok(sessions::Entity::delete_many()
        .filter(sessions::Column::UserId.eq(user_id))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Deletes expired sessions; returns how many.
pub async fn delete_expired_sessions<C: ConnectionTrait>(conn: &C) -> Result<u64> {
    Ok(sessions::Entity::delete_many()
        .filter(sessions::Column::ExpiresAt.lte(now()))
        .exec(conn)
        .await?
        .rows_affected)
}
