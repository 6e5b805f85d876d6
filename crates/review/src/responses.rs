//! Responses per facility: page images beside every answer, each editable, with its history.

use std::collections::{BTreeMap, HashMap, HashSet};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use capsurvey_store::entity::{answers, facilities, responses, review_tasks, scanned_pages};
use capsurvey_store::sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use capsurvey_store::{Source, SourceKind, StoreError, decode_value};
use serde::Deserialize;
use serde_json::json;

use crate::auth::CurrentUser;
use crate::queue::{field_label, kind_label};
use crate::values::{self, display_value, find_field, input_text, options_of};
use crate::web::{self, Fields, file_url, jst};
use crate::{App, Result, ReviewError};

/// Query of the response list.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    survey: Option<String>,
    #[serde(default)]
    q: Option<String>,
}

/// `GET /responses?survey=&q=`: responses with their facility, answers and open items.
pub async fn list(
    State(app): State<App>,
    Extension(user): Extension<CurrentUser>,
    Query(lq): Query<ListQuery>,
) -> Result<Response> {
    let db = app.store().db();
    let versions = capsurvey_store::survey_versions(db).await?;
    let survey = lq.survey.as_deref().filter(|s| !s.is_empty());
    let mut q = responses::Entity::find().order_by_asc(responses::Column::Id);
    if let Some(s) = survey {
        let ids: Vec<i64> = versions
            .iter()
            .filter(|v| v.survey_id == s)
            .map(|v| v.id)
            .collect();
        q = q.filter(responses::Column::SurveyVersionId.is_in(ids));
    }
    let rs = q.all(db).await.map_err(StoreError::from)?;
    let fs: HashMap<i64, facilities::Model> = facilities::Entity::find()
        .filter(facilities::Column::Id.is_in(rs.iter().map(|r| r.facility_id).collect::<Vec<_>>()))
        .all(db)
        .await
        .map_err(StoreError::from)?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    let answer_counts: HashMap<i64, i64> = answers::Entity::find()
        .select_only()
        .column(answers::Column::ResponseId)
        .column_as(answers::Column::Id.count(), "n")
        .filter(answers::Column::Status.eq("accepted"))
        .group_by(answers::Column::ResponseId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await
        .map_err(StoreError::from)?
        .into_iter()
        .collect();
    let open_counts: HashMap<i64, i64> = review_tasks::Entity::find()
        .select_only()
        .column(review_tasks::Column::ResponseId)
        .column_as(review_tasks::Column::Id.count(), "n")
        .filter(review_tasks::Column::Status.eq("open"))
        .filter(review_tasks::Column::ResponseId.is_not_null())
        .group_by(review_tasks::Column::ResponseId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await
        .map_err(StoreError::from)?
        .into_iter()
        .collect();
    let needle =
        lq.q.as_deref()
            .map(values::normalize_input)
            .unwrap_or_default();
    let vmap: HashMap<i64, _> = versions.iter().map(|v| (v.id, v)).collect();
    let rows: Vec<_> = rs
        .iter()
        .filter_map(|r| {
            let f = fs.get(&r.facility_id)?;
            if !needle.is_empty() && !f.code.contains(&needle) && !f.name.contains(&needle) {
                return None;
            }
            let v = vmap.get(&r.survey_version_id)?;
            Some(json!({
                "id": r.id,
                "code": f.code,
                "name": f.name,
                "survey": format!("{} v{}", v.survey_id, v.version),
                "status": r.status,
                "answers": answer_counts.get(&r.id).copied().unwrap_or(0),
                "open": open_counts.get(&r.id).copied().unwrap_or(0),
                "updated": jst(&r.updated_at),
            }))
        })
        .take(1000)
        .collect();
    let mut surveys = Vec::new();
    let mut seen = HashSet::new();
    for v in &versions {
        if seen.insert(v.survey_id.clone()) {
            surveys.push(json!({"id": v.survey_id, "title": v.title}));
        }
    }
    let ctx = web::with(
        web::base(&app, &user, "responses").await?,
        json!({"rows": rows, "surveys": surveys, "survey": survey.unwrap_or(""), "q": lq.q.unwrap_or_default()}),
    );
    Ok(web::render(&app, "responses.html", &ctx)?.into_response())
}

/// Query of one response page: which field was just saved, or which failed.
#[derive(Debug, Default, Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    saved: Option<String>,
}

/// `GET /responses/{id}`.
pub async fn show(
    State(app): State<App>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    Query(sq): Query<ShowQuery>,
) -> Result<Response> {
    let notice = sq.saved.map(|k| {
        json!({"kind": "ok", "title": "保存しました", "text": format!("{k} を保存しました。"), "field": k})
    });
    render_response(&app, &user, id, notice, StatusCode::OK).await
}

async fn render_response(
    app: &App,
    user: &CurrentUser,
    id: i64,
    notice: Option<serde_json::Value>,
    status: StatusCode,
) -> Result<Response> {
    let db = app.store().db();
    let r = responses::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(StoreError::from)?
        .ok_or_else(|| ReviewError::NotFound(format!("回答 {id} はありません。")))?;
    let facility = facilities::Entity::find_by_id(r.facility_id)
        .one(db)
        .await
        .map_err(StoreError::from)?
        .ok_or_else(|| ReviewError::NotFound(format!("施設 {}", r.facility_id)))?;
    let version = capsurvey_store::entity::survey_versions::Entity::find_by_id(r.survey_version_id)
        .one(db)
        .await
        .map_err(StoreError::from)?
        .ok_or_else(|| ReviewError::NotFound(format!("調査版 {}", r.survey_version_id)))?;
    let survey = app.definition(version.id).await?;
    let all = answers::Entity::find()
        .filter(answers::Column::ResponseId.eq(id))
        .order_by_asc(answers::Column::Id)
        .all(db)
        .await
        .map_err(StoreError::from)?;
    let mut by_key: BTreeMap<String, Vec<answers::Model>> = BTreeMap::new();
    for a in &all {
        by_key
            .entry(a.field_key.clone())
            .or_default()
            .push(a.clone());
    }
    let open_tasks = review_tasks::Entity::find()
        .filter(review_tasks::Column::ResponseId.eq(id))
        .filter(review_tasks::Column::Status.eq("open"))
        .order_by_asc(review_tasks::Column::Id)
        .all(db)
        .await
        .map_err(StoreError::from)?;
    let mut task_by_key: HashMap<String, Vec<serde_json::Value>> = HashMap::new();
    for t in &open_tasks {
        task_by_key
            .entry(t.field_key.clone().unwrap_or_default())
            .or_default()
            .push(json!({"id": t.id, "kind_label": kind_label(&t.kind)}));
    }

    // Pages: those answers were read from, and those of the response's mailing.
    let page_ids: HashSet<i64> = all.iter().filter_map(|a| a.scanned_page_id).collect();
    let mut cond = Condition::any().add(scanned_pages::Column::Id.is_in(page_ids));
    if let Some(m) = r.mailing_id {
        cond = cond.add(scanned_pages::Column::MailingId.eq(m));
    }
    let pages: Vec<_> = scanned_pages::Entity::find()
        .filter(cond)
        .order_by_asc(scanned_pages::Column::PageNumber)
        .order_by_asc(scanned_pages::Column::Id)
        .all(db)
        .await
        .map_err(StoreError::from)?
        .into_iter()
        .map(|p| {
            json!({
                "id": p.id,
                "number": p.page_number,
                "file": p.source_file,
                "index": p.page_index + 1,
                "status": p.status,
                "url": p.image_path.as_deref().map(file_url),
            })
        })
        .collect();

    let history = |rows: &[answers::Model], field: Option<&capsurvey_survey::Field<'_>>| {
        rows.iter()
            .map(|a| {
                let v = decode_value(&a.value).ok().flatten();
                json!({
                    "id": a.id,
                    "value": display_value(field, &v),
                    "status": a.status,
                    "status_label": match a.status.as_str() {
                        "accepted" => "採用",
                        "review" => "確認待ち",
                        "superseded" => "置き換え済み",
                        other => other,
                    },
                    "source": source_label(&a.source_kind),
                    "from": a.source_ref,
                    "person": a.person,
                    "confidence": a.confidence.map(|c| format!("{c:.2}")),
                    "at": jst(&a.created_at),
                })
            })
            .collect::<Vec<_>>()
    };

    let mut sections = Vec::new();
    let mut known = HashSet::new();
    for s in &survey.sections {
        let mut questions = Vec::new();
        for q in &s.questions {
            let mut fields = Vec::new();
            for f in q.fields() {
                let key = f.key();
                known.insert(key.clone());
                let rows = by_key.get(&key).map(Vec::as_slice).unwrap_or(&[]);
                let current = rows.iter().rev().find(|a| a.status == "accepted");
                let value = current.and_then(|a| decode_value(&a.value).ok().flatten());
                let options: Vec<_> = options_of(&f)
                    .into_iter()
                    .map(|o| {
                        let on = match &value {
                            Some(capsurvey_survey::Value::Choice(c)) => *c == o.code,
                            Some(capsurvey_survey::Value::Choices(cs)) => cs.contains(&o.code),
                            Some(capsurvey_survey::Value::Bool(b)) => {
                                (o.code == capsurvey_survey::YES) == *b
                            }
                            _ => false,
                        };
                        json!({"code": o.code, "label": o.label, "on": on})
                    })
                    .collect();
                fields.push(json!({
                    "key": key,
                    "label": field_label(&survey, &key),
                    "part": f.part_label(),
                    "widget": match f.kind {
                        capsurvey_survey::FieldKind::Single | capsurvey_survey::FieldKind::YesNo => "choice",
                        capsurvey_survey::FieldKind::Multiple => "multi",
                        _ => "input",
                    },
                    "numeric": matches!(f.kind, capsurvey_survey::FieldKind::Count | capsurvey_survey::FieldKind::Decimal),
                    "unit": if q.kind.is_numeric() { q.unit.clone() } else { None },
                    "options": options,
                    "current": current.map(|a| json!({
                        "id": a.id,
                        "value": display_value(Some(&f), &value),
                        "source": source_label(&a.source_kind),
                        "from": a.source_ref,
                        "at": jst(&a.created_at),
                    })),
                    "seen": current.map(|a| a.id).unwrap_or(0),
                    "input": input_text(&value),
                    "pending": rows.iter().any(|a| a.status == "review"),
                    "tasks": task_by_key.get(&key).cloned().unwrap_or_default(),
                    "history": history(rows, Some(&f)),
                }));
            }
            questions.push(json!({
                "number": survey.number_of(&q.id).unwrap_or_default(),
                "text": q.text,
                "fields": fields,
            }));
        }
        sections.push(json!({"title": s.title, "questions": questions}));
    }
    let unknown: Vec<_> = by_key
        .iter()
        .filter(|(k, _)| !known.contains(*k))
        .map(|(k, rows)| json!({"key": k, "history": history(rows, None)}))
        .collect();
    let ctx = web::with(
        web::base(app, user, "responses").await?,
        json!({
            "response": {"id": r.id, "status": r.status, "updated": jst(&r.updated_at)},
            "facility": {"code": facility.code, "name": facility.name, "address": facility.address, "phone": facility.phone, "fax": facility.fax},
            "survey": {"id": version.survey_id, "version": version.version, "title": version.title},
            "pages": pages,
            "sections": sections,
            "unknown": unknown,
            "open_tasks": open_tasks.iter().map(|t| json!({"id": t.id, "kind_label": kind_label(&t.kind), "field": t.field_key})).collect::<Vec<_>>(),
            "notice": notice,
        }),
    );
    Ok((status, web::render(app, "response.html", &ctx)?).into_response())
}

fn source_label(kind: &str) -> &str {
    match kind {
        "scan" => "FAX・スキャン",
        "csv" => "CSV",
        "person" => "担当者",
        other => other,
    }
}

/// `POST /responses/{id}/answers`: a person's edit of one answer.
///
/// Form: `field`, `seen` (the accepted answer id the page showed, 0 for none) and the value as in
/// the queue (`pick` = `none`, `unknown`, `opt:CODE`, `opts` with `opt`, or `text` with `text`).
/// If someone changed the answer since the page was shown, nothing is saved (409).
pub async fn edit(
    State(app): State<App>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response> {
    let form = Fields::parse(&body);
    let db = app.store().db();
    let r = responses::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(StoreError::from)?
        .ok_or_else(|| ReviewError::NotFound(format!("回答 {id} はありません。")))?;
    let survey = app.definition(r.survey_version_id).await?;
    let key = form.get("field").unwrap_or("").to_owned();
    let Some(field) = find_field(&survey, &key) else {
        return Err(ReviewError::BadRequest(format!(
            "設問「{key}」はこの調査にありません。"
        )));
    };
    let seen: i64 = form.get("seen").and_then(|s| s.parse().ok()).unwrap_or(-1);
    let value = match crate::queue::decision(Some(&field), &form, &serde_json::Value::Null) {
        Ok(v) => v,
        Err(msg) => {
            let notice = json!({"kind": "error", "title": "入力を確認してください", "text": format!("{}: {msg}", field_label(&survey, &key)), "field": key});
            return render_response(
                &app,
                &user,
                id,
                Some(notice),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let txn = db.begin().await.map_err(StoreError::from)?;
    // Write first, so concurrent edits of this response queue up (see queue::touch_response).
    responses::Entity::update_many()
        .col_expr(
            responses::Column::UpdatedAt,
            capsurvey_store::sea_orm::sea_query::Expr::value(capsurvey_store::now()),
        )
        .filter(responses::Column::Id.eq(id))
        .exec(&txn)
        .await
        .map_err(StoreError::from)?;
    let current = capsurvey_store::accepted_answer(&txn, id, &key).await?;
    if current.as_ref().map(|a| a.id).unwrap_or(0) != seen {
        txn.rollback().await.ok();
        let by = current
            .as_ref()
            .map(|a| a.person.clone().unwrap_or_else(|| a.source_ref.clone()))
            .unwrap_or_default();
        let notice = json!({
            "kind": "conflict",
            "title": "他の担当者が先に処理しました",
            "text": format!("{} は、この画面を開いた後に変更されています（{by}）。あなたの入力は保存されていません。最新の値を確認してください。", field_label(&survey, &key)),
            "field": key,
        });
        return render_response(&app, &user, id, Some(notice), StatusCode::CONFLICT).await;
    }
    let old = current.as_ref().and_then(|a| a.value.clone());
    let src = Source {
        kind: SourceKind::Person,
        source_ref: format!("edit by {}", user.name),
        scanned_page_id: None,
        imported_file_id: None,
        row_number: None,
        person: Some(user.name.clone()),
    };
    let new = value
        .as_ref()
        .map(|v| serde_json::to_string(v).expect("values serialise"));
    let put = capsurvey_store::put_answer(&txn, &r, &key, value, None, &src, &user.name).await?;
    capsurvey_store::audit(
        &txn,
        &user.name,
        "answer.edit",
        "responses",
        Some(id),
        json!({"field": key, "old": old, "new": new, "result": format!("{put:?}")}),
    )
    .await?;
    txn.commit().await.map_err(StoreError::from)?;
    tracing::info!(user = %user.name, response = id, field = %key, "answer edited");
    Ok(Redirect::to(&format!(
        "/responses/{id}?saved={}#f-{}",
        web::qs(&key),
        web::qs(&key)
    ))
    .into_response())
}
