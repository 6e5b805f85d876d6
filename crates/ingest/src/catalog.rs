//! The survey versions a page code can name, with their layouts, loaded once per run.

use std::collections::HashMap;
use std::sync::Arc;

use capsurvey_layout::{Layout, PageKind};
use capsurvey_store::sea_orm::ConnectionTrait;
use capsurvey_store::{StoreError, stored_definition, survey_versions};
use capsurvey_survey::Survey;

/// One stored survey version and the layout its forms were printed with.
#[derive(Debug)]
pub struct Version {
    /// The `survey_versions` row id (what the page code carries).
    pub id: i64,
    /// Survey id (`dental`, …).
    pub survey_id: String,
    /// Version number.
    pub version: i32,
    /// The definition stored with the version.
    pub survey: Survey,
    /// Its layout: a pure function of the definition, so the same as when the forms were made.
    pub layout: Layout,
}

impl Version {
    /// Page numbers that carry questions: the pages a reply must contain to be complete.
    pub fn question_pages(&self) -> Vec<u32> {
        self.layout
            .pages
            .iter()
            .filter(|p| p.kind == PageKind::Questions)
            .map(|p| p.number)
            .collect()
    }

    /// `dental v1`.
    pub fn label(&self) -> String {
        format!("{} v{}", self.survey_id, self.version)
    }
}

/// Every stored survey version, by id.
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    versions: HashMap<i64, Arc<Version>>,
}

impl Catalog {
    /// Loads every stored survey version and computes its layout.
    pub async fn load<C: ConnectionTrait>(conn: &C) -> Result<Catalog, StoreError> {
        let mut catalog = Catalog::default();
        for row in survey_versions(conn).await? {
            let survey = stored_definition(&row)?;
            let layout = capsurvey_forms::form::layout(&survey, &row.content_hash);
            catalog.insert(Version {
                id: row.id,
                survey_id: row.survey_id,
                version: row.version,
                survey,
                layout,
            });
        }
        Ok(catalog)
    }

    /// Adds a version (tests build catalogs by hand).
    pub fn insert(&mut self, v: Version) {
        self.versions.insert(v.id, Arc::new(v));
    }

    /// The version with this id.
    pub fn get(&self, id: i64) -> Option<&Arc<Version>> {
        self.versions.get(&id)
    }

    /// Every version, in id order.
    pub fn versions(&self) -> impl Iterator<Item = &Arc<Version>> {
        let mut ids: Vec<&i64> = self.versions.keys().collect();
        ids.sort();
        ids.into_iter().map(|id| &self.versions[id])
    }

    /// Whether no survey version is stored.
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }
}
