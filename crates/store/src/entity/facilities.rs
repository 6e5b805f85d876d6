//! A facility on the roster, keyed by its official code (医療機関コード / 事業所番号) or a local code.

use sea_orm::entity::prelude::*;

#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "facilities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Official code, or `L`-prefixed local code for facilities added by hand.
    #[sea_orm(unique)]
    pub code: String,
    /// `dental`, `homecare-clinic` or `visiting-nurse`.
    pub facility_type: String,
    pub name: String,
    pub name_kana: Option<String>,
    pub postal_code: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub fax: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The area (地区) from the area map.
    pub area: Option<String>,
    /// An area set by hand; wins over `area` and survives re-imports.
    pub area_override: Option<String>,
    /// Filing codes from the bureau list (支援診１, 歯援診2 …), `;`-separated.
    pub filings: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[allow(missing_docs)]
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
