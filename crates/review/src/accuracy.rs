//! How good the machine's reading is, measured from what people decided.
//!
//! Every resolved task whose payload has a `guess` (uncertain marks, write-ins read by the
//! machine, and the quality samples of boxes the machine accepted alone) is one observation: the
//! guess was right if the person decided the same value. Observations are grouped by where they
//! come from (items the machine was unsure of, quality samples), by the field kind of the
//! question (single, multiple, yes/no, count …) and by the confidence band of the guess.
//!
//! Per reviewer, items per hour counts decisions against working time: the gaps between a
//! reviewer's consecutive decisions, leaving out gaps longer than [`BREAK`] (a break).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use capsurvey_store::entity::{audit_log, review_tasks};
use capsurvey_store::sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use capsurvey_store::{StoreError, decode_value};
use capsurvey_survey::Value;
use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::values::{self, BANDS, confidence_band, find_field};
use crate::{App, Result, web};

/// A pause between two decisions longer than this is a break, not work.
pub const BREAK: chrono::Duration = chrono::Duration::minutes(15);

/// Less working time than this gives no rate (a few quick clicks say nothing about a pace).
pub const MIN_WORK_HOURS: f64 = 5.0 / 60.0;

/// One line of the accuracy table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccuracyRow {
    /// `review` (the machine was unsure) or `quality` (a sample of what it accepted alone).
    pub origin: String,
    /// Japanese name of the origin.
    pub origin_label: String,
    /// Field kind (`single`, `multiple`, `yes_no`, `count`, `decimal`, `text`, `unknown`).
    pub kind: String,
    /// Japanese name of the field kind.
    pub kind_label: String,
    /// Confidence band (`0.60未満`, `0.60–0.80`, `0.80–0.95`, `0.95以上`, `不明`).
    pub band: String,
    /// Items reviewed.
    pub n: u64,
    /// Items where the machine's guess was what the person decided.
    pub right: u64,
    /// `right / n` in percent.
    pub percent: f64,
}

/// One reviewer's pace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewerRow {
    /// Login name.
    pub name: String,
    /// Items decided.
    pub items: u64,
    /// Working time in hours (gaps between decisions, breaks left out).
    pub hours: f64,
    /// Items per working hour, once there are at least [`MIN_WORK_HOURS`] of working time.
    pub per_hour: Option<f64>,
}

/// The accuracy report of one survey (all its versions).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccuracyReport {
    /// Survey id.
    pub survey_id: String,
    /// Reviewed items with a machine guess.
    pub observed: u64,
    /// Of those, right.
    pub right: u64,
    /// Per origin, field kind and confidence band.
    pub rows: Vec<AccuracyRow>,
    /// Per origin over all kinds and bands.
    pub totals: Vec<AccuracyRow>,
    /// Per reviewer.
    pub reviewers: Vec<ReviewerRow>,
}

fn percent(right: u64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        100.0 * right as f64 / n as f64
    }
}

fn origin_label(origin: &str) -> &'static str {
    if origin == "quality" {
        "抜き取り（機械が単独で採用）"
    } else {
        "要確認（機械が迷ったもの）"
    }
}

/// Computes the report of `survey_id` from the resolved tasks and their audit rows.
pub async fn accuracy_report<C: ConnectionTrait>(
    conn: &C,
    survey_id: &str,
) -> Result<AccuracyReport> {
    let versions: Vec<_> = capsurvey_store::survey_versions(conn)
        .await?
        .into_iter()
        .filter(|v| v.survey_id == survey_id)
        .collect();
    if versions.is_empty() {
        return Err(crate::ReviewError::NotFound(format!(
            "survey `{survey_id}` has no stored version (no forms or replies yet)"
        )));
    }
    let mut defs = HashMap::new();
    for v in &versions {
        defs.insert(v.id, capsurvey_store::stored_definition(v)?);
    }
    let tasks = review_tasks::Entity::find()
        .filter(review_tasks::Column::Status.eq("done"))
        .filter(review_tasks::Column::SurveyVersionId.is_in(versions.iter().map(|v| v.id)))
        .order_by_asc(review_tasks::Column::Id)
        .all(conn)
        .await
        .map_err(StoreError::from)?;
    let mut decisions: HashMap<i64, Option<Value>> = HashMap::new();
    for chunk in tasks.chunks(500) {
        let rows = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("review.resolve"))
            .filter(audit_log::Column::Entity.eq("review_tasks"))
            .filter(audit_log::Column::EntityId.is_in(chunk.iter().map(|t| t.id)))
            .order_by_asc(audit_log::Column::Id)
            .all(conn)
            .await
            .map_err(StoreError::from)?;
        for r in rows {
            let d: serde_json::Value = serde_json::from_str(&r.detail).unwrap_or_default();
            let Some(dec) = d.get("decision") else {
                continue;
            };
            let value = match dec {
                serde_json::Value::String(s) => decode_value(&Some(s.clone()))?,
                _ => None,
            };
            if let Some(id) = r.entity_id {
                decisions.insert(id, value);
            }
        }
    }

    // (origin, kind, band) -> (n, right)
    let mut cells: BTreeMap<(String, String, usize), (u64, u64)> = BTreeMap::new();
    let mut by_reviewer: BTreeMap<String, Vec<chrono::DateTime<chrono::Utc>>> = BTreeMap::new();
    for t in &tasks {
        if let (Some(by), Some(at)) = (&t.resolved_by, t.resolved_at) {
            by_reviewer.entry(by.clone()).or_default().push(at);
        }
        if !matches!(t.kind.as_str(), "mark" | "write_in" | "quality") {
            continue;
        }
        let payload: serde_json::Value = serde_json::from_str(&t.payload).unwrap_or_default();
        let Some(g) = payload.get("guess") else {
            continue;
        };
        let guess: Option<Value> = if g.is_null() {
            None
        } else {
            match serde_json::from_value(g.clone()) {
                Ok(v) => Some(v),
                Err(_) => continue,
            }
        };
        let Some(decision) = decisions.get(&t.id) else {
            continue;
        };
        let kind = t
            .survey_version_id
            .and_then(|sv| defs.get(&sv))
            .zip(t.field_key.as_deref())
            .and_then(|(s, k)| find_field(s, k).map(|f| values::kind_name(f.kind)))
            .unwrap_or("unknown");
        let band = confidence_band(payload.get("confidence").and_then(|c| c.as_f64()));
        let band_ix = BANDS.iter().position(|b| *b == band).unwrap_or(BANDS.len());
        let origin = if t.kind == "quality" {
            "quality"
        } else {
            "review"
        };
        let cell = cells
            .entry((origin.to_owned(), kind.to_owned(), band_ix))
            .or_default();
        cell.0 += 1;
        if &guess == decision {
            cell.1 += 1;
        }
    }
    let kind_label = |k: &str| match k {
        "single" => "単一選択",
        "multiple" => "複数選択",
        "yes_no" => "二択",
        "count" => "数（整数）",
        "decimal" => "数（小数）",
        "text" => "文字",
        _ => "不明",
    };
    let rows: Vec<AccuracyRow> = cells
        .iter()
        .map(|((origin, kind, band), (n, right))| AccuracyRow {
            origin: origin.clone(),
            origin_label: origin_label(origin).to_owned(),
            kind: kind.clone(),
            kind_label: kind_label(kind).to_owned(),
            band: BANDS.get(*band).copied().unwrap_or("不明").to_owned(),
            n: *n,
            right: *right,
            percent: percent(*right, *n),
        })
        .collect();
    let mut totals_map: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for r in &rows {
        let t = totals_map.entry(r.origin.clone()).or_default();
        t.0 += r.n;
        t.1 += r.right;
    }
    let totals = totals_map
        .into_iter()
        .map(|(origin, (n, right))| AccuracyRow {
            origin_label: origin_label(&origin).to_owned(),
            origin,
            kind: "all".into(),
            kind_label: "すべて".into(),
            band: "すべて".into(),
            n,
            right,
            percent: percent(right, n),
        })
        .collect::<Vec<_>>();
    let reviewers = by_reviewer
        .into_iter()
        .map(|(name, times)| {
            let (hours, per_hour) = pace(times.clone());
            ReviewerRow {
                name,
                items: times.len() as u64,
                hours,
                per_hour,
            }
        })
        .collect();
    let observed = rows.iter().map(|r| r.n).sum();
    let right = rows.iter().map(|r| r.right).sum();
    Ok(AccuracyReport {
        survey_id: survey_id.to_owned(),
        observed,
        right,
        rows,
        totals,
        reviewers,
    })
}

/// Working hours and items per hour from the times of one reviewer's decisions.
pub fn pace(mut times: Vec<chrono::DateTime<chrono::Utc>>) -> (f64, Option<f64>) {
    times.sort();
    let mut worked = chrono::Duration::zero();
    let mut counted = 0u64;
    for w in times.windows(2) {
        let gap = w[1] - w[0];
        if gap <= BREAK {
            worked += gap;
            counted += 1;
        }
    }
    let hours = worked.num_milliseconds() as f64 / 3_600_000.0;
    (
        hours,
        (hours >= MIN_WORK_HOURS).then(|| counted as f64 / hours),
    )
}

impl AccuracyReport {
    /// The report as a plain-text table (the CLI prints this).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Accuracy of the machine's reading, survey `{}`: {} reviewed item(s) with a machine guess, {} right ({:.1}%)",
            self.survey_id,
            self.observed,
            self.right,
            percent(self.right, self.observed)
        );
        if self.rows.is_empty() {
            let _ = writeln!(
                s,
                "No reviewed marks yet: resolve items in the review site (capsurvey review serve)."
            );
        } else {
            let _ = writeln!(
                s,
                "\n{:<8} {:<9} {:<10} {:>6} {:>6} {:>7}",
                "origin", "kind", "confidence", "n", "right", "right%"
            );
            for r in self.rows.iter().chain(self.totals.iter()) {
                let band = match r.band.as_str() {
                    "0.60未満" => "<0.60",
                    "0.95以上" => ">=0.95",
                    "不明" => "unknown",
                    "すべて" => "all",
                    b => b,
                };
                let _ = writeln!(
                    s,
                    "{:<8} {:<9} {:<10} {:>6} {:>6} {:>6.1}%",
                    r.origin, r.kind, band, r.n, r.right, r.percent
                );
            }
            let _ = writeln!(
                s,
                "\norigin: review = items the machine was unsure of; quality = sampled boxes it accepted alone"
            );
        }
        if !self.reviewers.is_empty() {
            let _ = writeln!(
                s,
                "\n{:<16} {:>6} {:>8} {:>9}",
                "reviewer", "items", "hours", "per hour"
            );
            for r in &self.reviewers {
                let rate = r
                    .per_hour
                    .map(|p| format!("{p:.0}"))
                    .unwrap_or_else(|| "-".into());
                let _ = writeln!(
                    s,
                    "{:<16} {:>6} {:>8.2} {:>9}",
                    r.name, r.items, r.hours, rate
                );
            }
        }
        s
    }
}

/// Query of the accuracy page.
#[derive(Debug, Default, Deserialize)]
pub struct AccuracyQuery {
    #[serde(default)]
    survey: Option<String>,
}

/// `GET /accuracy?survey=ID`.
pub async fn page(
    State(app): State<App>,
    Extension(user): Extension<CurrentUser>,
    Query(q): Query<AccuracyQuery>,
) -> Result<Response> {
    let db = app.store().db();
    let mut surveys: Vec<(String, String)> = Vec::new();
    for v in capsurvey_store::survey_versions(db).await? {
        if !surveys.iter().any(|(id, _)| *id == v.survey_id) {
            surveys.push((v.survey_id, v.title));
        }
    }
    let chosen = q
        .survey
        .filter(|s| !s.is_empty())
        .or_else(|| surveys.first().map(|(id, _)| id.clone()));
    let report = match &chosen {
        Some(s) => Some(accuracy_report(db, s).await?),
        None => None,
    };
    let ctx = web::with(
        web::base(&app, &user, "accuracy").await?,
        serde_json::json!({
            "surveys": surveys.iter().map(|(id, t)| serde_json::json!({"id": id, "title": t})).collect::<Vec<_>>(),
            "survey": chosen,
            "report": report,
            "overall": report.as_ref().map(|r| format!("{:.1}", percent(r.right, r.observed))),
        }),
    );
    Ok(web::render(&app, "accuracy.html", &ctx)?.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pace_leaves_out_breaks() {
        let t0 = chrono::DateTime::parse_from_rfc3339("2026-11-21T09:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let at = |min: i64, sec: i64| {
            t0 + chrono::Duration::minutes(min) + chrono::Duration::seconds(sec)
        };
        // 31 decisions 20 s apart (10 minutes), a lunch break, 1 more after it.
        let mut times: Vec<_> = (0..31).map(|i| at(0, 20 * i)).collect();
        times.push(at(70, 0));
        let (hours, rate) = pace(times);
        assert!((hours - 10.0 / 60.0).abs() < 1e-9);
        assert!((rate.unwrap() - 180.0).abs() < 1e-6, "{rate:?}");
        // A few quick clicks give no rate.
        assert_eq!(pace(vec![at(0, 0), at(0, 1)]).1, None);
        assert_eq!(pace(vec![at(0, 0)]), (0.0, None));
    }
}
