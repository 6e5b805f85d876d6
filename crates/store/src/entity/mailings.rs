//! A form sent to a facility (or a blank form): which form code in which batch, when.

use sea_orm::entity::prelude::*;

#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "mailings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub survey_version_id: i64,
    /// Null for blank forms.
    pub facility_id: Option<i64>,
    pub batch: String,
    /// `initial`, `reminder` or `blank`.
    pub kind: String,
    /// The number printed in the page code and as 管理No.
    #[sea_orm(unique)]
    pub form_code: String,
    pub created_at: DateTimeUtc,
}

#[allow(missing_docs)]
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
