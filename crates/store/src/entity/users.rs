//! A person who may log in to the review site, with a role and an argon2 password hash.

use sea_orm::entity::prelude::*;

#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Login name, also the name in the audit log.
    #[sea_orm(unique)]
    pub name: String,
    /// `admin`, `entry` or `viewer`.
    pub role: String,
    /// PHC string (`$argon2id$…`); never shown or logged.
    #[serde(skip_serializing)]
    pub password_hash: String,
    pub created_at: DateTimeUtc,
    /// A disabled user cannot log in and loses their sessions.
    pub disabled: bool,
}

#[allow(missing_docs)]
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
