//! Mailings: which facility got which form, with which form code, in which batch and when.
//!
//! Every `capsurvey forms generate` run is one **batch**: a name (by default the date and the
//! survey, `20241108-dental`, with `-2`, `-3` … added when that name is taken) and one mailing row
//! per form. The mailing id goes into the page code of every page; the form code, printed as
//! 管理No, is the facility type's letter and the id: `D-000123` (dental), `H-…` (home-care clinic),
//! `N-…` (visiting nurse).
//!
//! All functions take any connection, so the caller creates a batch's mailings, writes its PDFs
//! and commits in one transaction.

use std::collections::HashSet;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

use crate::entity::{facilities, mailings, responses};
use crate::{Result, StoreError, audit, now};

/// The largest mailing id a page code can carry (24 bits).
pub const MAX_MAILING_ID: i64 = 0xFF_FFFF;

/// The letter that starts the form codes of a facility type: `D`, `H`, `N` (`X` for others).
pub fn form_code_letter(facility_type: &str) -> char {
    match facility_type {
        "dental" => 'D',
        "homecare-clinic" => 'H',
        "visiting-nurse" => 'N',
        _ => 'X',
    }
}

/// The form code of a mailing: `D-000123`.
pub fn form_code(facility_type: &str, mailing_id: i64) -> String {
    format!("{}-{mailing_id:06}", form_code_letter(facility_type))
}

/// The facility's area for sorting and filtering: the hand-set override, else the mapped area.
pub fn effective_area(f: &facilities::Model) -> Option<&str> {
    f.area_override
        .as_deref()
        .or(f.area.as_deref())
        .filter(|a| !a.trim().is_empty())
}

/// Facilities of one type, in mailing order: by area (facilities without one last), then code.
pub async fn facilities_of_type<C: ConnectionTrait>(
    conn: &C,
    facility_type: &str,
) -> Result<Vec<facilities::Model>> {
    let mut all = facilities::Entity::find()
        .filter(facilities::Column::FacilityType.eq(facility_type))
        .order_by_asc(facilities::Column::Code)
        .all(conn)
        .await?;
    all.sort_by(|a, b| {
        let (x, y) = (effective_area(a), effective_area(b));
        (x.is_none(), x, &a.code).cmp(&(y.is_none(), y, &b.code))
    });
    Ok(all)
}

/// Ids of the facilities that have a response to a survey version.
pub async fn responding_facility_ids<C: ConnectionTrait>(
    conn: &C,
    survey_version_id: i64,
) -> Result<HashSet<i64>> {
    Ok(responses::Entity::find()
        .filter(responses::Column::SurveyVersionId.eq(survey_version_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.facility_id)
        .collect())
}

/// Whether a batch of this name exists for the survey version.
pub async fn batch_exists<C: ConnectionTrait>(
    conn: &C,
    survey_version_id: i64,
    batch: &str,
) -> Result<bool> {
    Ok(mailings::Entity::find()
        .filter(mailings::Column::SurveyVersionId.eq(survey_version_id))
        .filter(mailings::Column::Batch.eq(batch))
        .count(conn)
        .await?
        > 0)
}

/// `base` if no batch of the survey version has that name, else `base-2`, `base-3` …
pub async fn unused_batch_name<C: ConnectionTrait>(
    conn: &C,
    survey_version_id: i64,
    base: &str,
) -> Result<String> {
    if !batch_exists(conn, survey_version_id, base).await? {
        return Ok(base.to_owned());
    }
    for n in 2.. {
        let name = format!("{base}-{n}");
        if !batch_exists(conn, survey_version_id, &name).await? {
            return Ok(name);
        }
    }
    unreachable!("some suffix is free")
}

/// Creates one mailing per entry of `facility_ids` (`None` for a blank form), in that order, all
/// in batch `batch` of kind `kind` (`initial`, `reminder` or `blank`), and one audit row.
///
/// Form codes are made from the new ids (see [`form_code`]). Fails if an id would not fit the
/// page code ([`MAX_MAILING_ID`]). Run it inside the transaction that also writes the forms.
pub async fn create_mailings<C: ConnectionTrait>(
    conn: &C,
    survey_version_id: i64,
    facility_type: &str,
    batch: &str,
    kind: &str,
    facility_ids: &[Option<i64>],
    actor: &str,
) -> Result<Vec<mailings::Model>> {
    let created_at = now();
    let mut out = Vec::with_capacity(facility_ids.len());
    for (i, facility_id) in facility_ids.iter().enumerate() {
        // The form code needs the id, so the row is inserted with a placeholder first (unique
        // within this transaction) and then given its code.
        let placeholder = format!("pending-{batch}-{i}");
        let model = mailings::ActiveModel {
            survey_version_id: Set(survey_version_id),
            facility_id: Set(*facility_id),
            batch: Set(batch.to_owned()),
            kind: Set(kind.to_owned()),
            form_code: Set(placeholder),
            created_at: Set(created_at),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        if model.id > MAX_MAILING_ID {
            return Err(StoreError::Conflict(format!(
                "mailing id {} does not fit the page code (at most {MAX_MAILING_ID})",
                model.id
            )));
        }
        let id = model.id;
        let mut active: mailings::ActiveModel = model.into();
        active.form_code = Set(form_code(facility_type, id));
        out.push(active.update(conn).await?);
    }
    audit(
        conn,
        actor,
        "mailing.create",
        "mailings",
        None,
        serde_json::json!({
            "survey_version_id": survey_version_id,
            "batch": batch,
            "kind": kind,
            "count": out.len(),
            "first_id": out.first().map(|m| m.id),
            "last_id": out.last().map(|m| m.id),
        }),
    )
    .await?;
    Ok(out)
}

/// The mailings of a survey version, in id order.
pub async fn mailings_of<C: ConnectionTrait>(
    conn: &C,
    survey_version_id: i64,
) -> Result<Vec<mailings::Model>> {
    Ok(mailings::Entity::find()
        .filter(mailings::Column::SurveyVersionId.eq(survey_version_id))
        .order_by_asc(mailings::Column::Id)
        .all(conn)
        .await?)
}

/// One mailing by id (for recognition: the page code's mailing id).
pub async fn mailing<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<mailings::Model>> {
    Ok(mailings::Entity::find_by_id(id).one(conn).await?)
}

/// One mailing by its form code (the 管理No a person reads off a page).
pub async fn mailing_by_form_code<C: ConnectionTrait>(
    conn: &C,
    form_code: &str,
) -> Result<Option<mailings::Model>> {
    Ok(mailings::Entity::find()
        .filter(mailings::Column::FormCode.eq(form_code.trim()))
        .one(conn)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_codes() {
        assert_eq!(form_code("dental", 123), "D-000123");
        assert_eq!(form_code("visiting-nurse", 1_234_567), "N-1234567");
        assert_eq!(form_code("homecare-clinic", 1), "H-000001");
    }
}
