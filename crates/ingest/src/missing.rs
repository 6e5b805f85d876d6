//! Forms of which some pages arrived and others did not: a reply is complete only when every
//! question page is in.

use std::collections::{BTreeMap, BTreeSet};

use capsurvey_store::sea_orm::ConnectionTrait;
use capsurvey_store::{StoreError, facility_by_id, mailing_by_id, pages_with_mailing};
use serde::Serialize;

use crate::catalog::Catalog;

/// One form with pages missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingPages {
    /// The mailing.
    pub mailing_id: i64,
    /// Its form code (管理No), printed on the form.
    pub form_code: String,
    /// Facility code and name.
    pub facility: Option<String>,
    /// `dental v1`.
    pub survey: String,
    /// Question pages received.
    pub received: Vec<u32>,
    /// Question pages not received yet.
    pub missing: Vec<u32>,
}

/// Forms with some question pages received and others missing, by mailing; only the mailings
/// in `only` when given.
pub async fn missing_pages<C: ConnectionTrait>(
    conn: &C,
    catalog: &Catalog,
    only: Option<&BTreeSet<i64>>,
) -> Result<Vec<MissingPages>, StoreError> {
    let mut by_mailing: BTreeMap<i64, BTreeSet<u32>> = BTreeMap::new();
    for p in pages_with_mailing(conn).await? {
        let (Some(m), Some(n)) = (p.mailing_id, p.page_number) else {
            continue;
        };
        if p.status == "unidentified" || only.is_some_and(|o| !o.contains(&m)) {
            continue;
        }
        by_mailing.entry(m).or_default().insert(n as u32);
    }
    let mut out = Vec::new();
    for (mailing_id, received) in by_mailing {
        let Some(mailing) = mailing_by_id(conn, mailing_id).await? else {
            continue;
        };
        let Some(version) = catalog.get(mailing.survey_version_id) else {
            continue;
        };
        let questions = version.question_pages();
        let missing: Vec<u32> = questions
            .iter()
            .copied()
            .filter(|n| !received.contains(n))
            .collect();
        let received: Vec<u32> = questions
            .iter()
            .copied()
            .filter(|n| received.contains(n))
            .collect();
        if missing.is_empty() || received.is_empty() {
            continue;
        }
        let facility = match mailing.facility_id {
            Some(f) => facility_by_id(conn, f)
                .await?
                .map(|f| format!("{} {}", f.code, f.name)),
            None => None,
        };
        out.push(MissingPages {
            mailing_id,
            form_code: mailing.form_code,
            facility,
            survey: version.label(),
            received,
            missing,
        });
    }
    Ok(out)
}
