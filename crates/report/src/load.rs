//! Loading a [`ReportInput`] from the store.
//!
//! Facilities are those sent a form of the survey version or with a response to it. Of each
//! response, only accepted answers give values; answers with status `review` only mark their
//! field as under review; superseded answers are history and are ignored.

use std::collections::HashMap;

use capsurvey_store::entity::{answers, facilities, mailings, responses, survey_versions};
use capsurvey_store::{decode_value, stored_definition, survey_version};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::model::{FacilityRecord, ReportInput};
use crate::{ReportError, Result};

/// The stored version of a survey: `version`, or the newest stored one.
pub async fn find_version<C: ConnectionTrait>(
    conn: &C,
    survey_id: &str,
    version: Option<u32>,
) -> Result<survey_versions::Model> {
    let found = match version {
        Some(v) => survey_version(conn, survey_id, v).await?,
        None => {
            survey_versions::Entity::find()
                .filter(survey_versions::Column::SurveyId.eq(survey_id))
                .order_by_desc(survey_versions::Column::Version)
                .one(conn)
                .await?
        }
    };
    if let Some(v) = found {
        return Ok(v);
    }
    let known: Vec<String> = capsurvey_store::survey_versions(conn)
        .await?
        .into_iter()
        .map(|v| format!("{} v{}", v.survey_id, v.version))
        .collect();
    let what = match version {
        Some(v) => format!("survey `{survey_id}` version {v}"),
        None => format!("survey `{survey_id}`"),
    };
    Err(ReportError::NotFound(if known.is_empty() {
        format!(
            "{what} is not in the database: no survey has been used yet (forms generate or replies import stores it)"
        )
    } else {
        format!(
            "{what} is not in the database; stored: {}",
            known.join(", ")
        )
    }))
}

/// Loads the input of a handout or export: one stored survey version (the newest unless
/// `version` is given), restricted to facilities in `areas` when that is not empty.
pub async fn load_input<C: ConnectionTrait>(
    conn: &C,
    survey_id: &str,
    version: Option<u32>,
    areas: &[String],
) -> Result<ReportInput> {
    let sv = find_version(conn, survey_id, version).await?;
    let survey = stored_definition(&sv)?;

    let mailed_q = Query::select()
        .column(mailings::Column::FacilityId)
        .from(mailings::Entity)
        .and_where(mailings::Column::SurveyVersionId.eq(sv.id))
        .and_where(mailings::Column::FacilityId.is_not_null())
        .to_owned();
    let responded_q = Query::select()
        .column(responses::Column::FacilityId)
        .from(responses::Entity)
        .and_where(responses::Column::SurveyVersionId.eq(sv.id))
        .to_owned();
    let facility_rows = facilities::Entity::find()
        .filter(
            Condition::any()
                .add(facilities::Column::Id.in_subquery(mailed_q))
                .add(facilities::Column::Id.in_subquery(responded_q)),
        )
        .order_by_asc(facilities::Column::Code)
        .all(conn)
        .await?;
    let mailed: std::collections::HashSet<i64> = mailings::Entity::find()
        .filter(mailings::Column::SurveyVersionId.eq(sv.id))
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|m| m.facility_id)
        .collect();
    let response_rows = responses::Entity::find()
        .filter(responses::Column::SurveyVersionId.eq(sv.id))
        .all(conn)
        .await?;
    let facility_of_response: HashMap<i64, i64> = response_rows
        .iter()
        .map(|r| (r.id, r.facility_id))
        .collect();

    let responded: std::collections::HashSet<i64> =
        facility_of_response.values().copied().collect();
    let mut records: Vec<FacilityRecord> = Vec::with_capacity(facility_rows.len());
    let mut index: HashMap<i64, usize> = HashMap::new();
    for f in facility_rows {
        let area = f.area_override.clone().or(f.area.clone());
        if !areas.is_empty() && !area.as_ref().is_some_and(|a| areas.contains(a)) {
            continue;
        }
        index.insert(f.id, records.len());
        records.push(FacilityRecord {
            code: f.code,
            name: f.name,
            name_kana: f.name_kana,
            facility_type: f.facility_type,
            area,
            filings: f
                .filings
                .as_deref()
                .unwrap_or("")
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            address: f.address,
            phone: f.phone,
            fax: f.fax,
            mailed: mailed.contains(&f.id),
            responded: responded.contains(&f.id),
            ..FacilityRecord::default()
        });
    }

    let response_ids = Query::select()
        .column(responses::Column::Id)
        .from(responses::Entity)
        .and_where(responses::Column::SurveyVersionId.eq(sv.id))
        .to_owned();
    // Oldest first, so a later accepted answer for the same field (there should be none) wins.
    let rows = answers::Entity::find()
        .filter(answers::Column::ResponseId.in_subquery(response_ids))
        .filter(answers::Column::Status.is_in(["accepted", "review"]))
        .order_by_asc(answers::Column::Id)
        .all(conn)
        .await?;
    for a in rows {
        let Some(&facility) = facility_of_response.get(&a.response_id) else {
            continue;
        };
        let Some(&i) = index.get(&facility) else {
            continue; // outside the area filter
        };
        let rec = &mut records[i];
        if a.status == "review" {
            rec.under_review.insert(a.field_key);
        } else {
            rec.answers.insert(a.field_key, decode_value(&a.value)?);
        }
    }
    Ok(ReportInput {
        survey,
        area_filter: areas.to_vec(),
        facilities: records,
    })
}
