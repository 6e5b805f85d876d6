//! Pages a person identified in the review site (status `assigned`): read them now, as if their
//! code had been readable.

use std::path::Path;

use capsurvey_layout::PageCode;
use capsurvey_scan::{Identified, PageImage, Transform, read_page};
use capsurvey_store::review::{page_assignment, pages_awaiting_reread};
use capsurvey_store::sea_orm::TransactionTrait as _;
use capsurvey_store::{Store, response_for, set_page_read};
use serde::Serialize;

use crate::catalog::Catalog;
use crate::page::{page_hash, review_crops};
use crate::write::{PageCtx, store_fields, update_response_status};
use crate::{FileReport, IngestOptions};

/// What the re-read did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RereadSummary {
    /// Pages read.
    pub pages: u64,
    /// Fields read with certainty.
    pub fields_decided: u64,
    /// Fields queued for review.
    pub marks_to_review: u64,
    /// Handwritten fields queued for keying.
    pub write_ins: u64,
    /// Pages that could not be read again, and why (they stay assigned).
    pub problems: Vec<String>,
}

/// Reads every assigned page from its original file and stores its answers in the response the
/// person chose. A page whose file is gone or changed is reported and left for later.
pub async fn reread_assigned(
    store: &Store,
    catalog: &Catalog,
    opts: &IngestOptions,
) -> Result<RereadSummary, crate::IngestError> {
    let mut summary = RereadSummary::default();
    for page in pages_awaiting_reread(store.db()).await? {
        reread_page(store, catalog, opts, page, &mut summary).await?;
    }
    Ok(summary)
}

/// Reads one assigned page (the review site calls this right after a person assigns it).
/// Problems that leave the page assigned (file gone or changed) go into `summary.problems`.
pub async fn reread_page(
    store: &Store,
    catalog: &Catalog,
    opts: &IngestOptions,
    page: capsurvey_store::entity::scanned_pages::Model,
    summary: &mut RereadSummary,
) -> Result<(), crate::IngestError> {
    let label = format!("{} p{}", page.source_file, page.page_index + 1);
    let Some(a) = page_assignment(store.db(), page.id).await? else {
        summary.problems.push(format!(
            "{label}: assigned, but the assignment is not in the audit log"
        ));
        return Ok(());
    };
    let Some(version) = catalog.get(a.survey_version_id) else {
        summary.problems.push(format!(
            "{label}: assigned to survey version {}, which is not stored",
            a.survey_version_id
        ));
        return Ok(());
    };
    let Some(layout) = version.layout.page(a.page_number as u32) else {
        summary.problems.push(format!(
            "{label}: assigned to page {} but {} has {} pages",
            a.page_number,
            version.label(),
            version.layout.pages.len()
        ));
        return Ok(());
    };
    let img = match load_page(Path::new(&page.source_file), page.page_index as usize) {
        Ok(img) if page_hash(&img) == page.content_hash => img,
        Ok(_) => {
            summary.problems.push(format!(
                "{label}: the file has changed since the page was received; \
                 ingest the original again"
            ));
            return Ok(());
        }
        Err(e) => {
            summary.problems.push(format!("{label}: {e}"));
            return Ok(());
        }
    };
    let code = PageCode {
        survey_version_id: a.survey_version_id as u32,
        mailing_id: a.mailing_id.unwrap_or(0) as u32,
        page: a.page_number as u32,
    };
    let id = identification(&img, code);
    let reading = read_page(&img, &id, layout, &version.survey);
    let crops = review_crops(&img, &id.transform, &reading, layout);
    let txn = store.db().begin().await?;
    let response = response_for(&txn, a.survey_version_id, a.facility_id, a.mailing_id).await?;
    let mut counts = FileReport::new(Path::new(&page.source_file));
    let ctx = PageCtx {
        txn: &txn,
        version,
        response: &response,
        page_id: page.id,
        hash: &page.content_hash,
        where_: &label,
        file_id: page.imported_file_id,
        data_dir: &opts.data_dir,
        actor: &opts.actor,
    };
    store_fields(&ctx, &reading, crops, &mut counts).await?;
    if let Some(m) = a.mailing_id {
        update_response_status(&txn, version, response, m).await?;
    }
    let transform =
        serde_json::json!({"transform": id.transform, "summary": id.summary, "reread": true});
    set_page_read(&txn, page, "identified", Some(transform.to_string())).await?;
    txn.commit().await?;
    summary.pages += 1;
    summary.fields_decided += counts.counts.fields_decided;
    summary.marks_to_review += counts.counts.marks_to_review;
    summary.write_ins += counts.counts.write_ins;
    Ok(())
}

fn load_page(path: &Path, index: usize) -> Result<PageImage, String> {
    let mut source = capsurvey_scan::open(path).map_err(|e| {
        format!("cannot read the original file again ({e}); put it back where it was received from")
    })?;
    match source.nth(index) {
        Some(Ok(img)) => Ok(img.reduced_for_recognition()),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("the file has fewer pages than when it was received".into()),
    }
}

/// The geometry to read an assigned page with: its registration marks if they can be found
/// (the code itself could not be read, or named nothing here), else the image taken as the page.
fn identification(img: &PageImage, code: PageCode) -> Identified {
    let (dpi_x, dpi_y) = (img.dpi_x as f64, img.dpi_y as f64);
    if let Ok(reg) = capsurvey_scan::register(img) {
        if let Ok(mut id) = capsurvey_scan::read_code(img, &reg) {
            id.code = code;
            return id;
        }
        let (paper, ink) = levels(img);
        return Identified {
            code,
            upside_down: false,
            transform: reg.transform,
            summary: reg.transform.summary(dpi_x, dpi_y),
            residual_mm: reg.residual_mm,
            marks: reg.marks,
            code_copies: 0,
            paper,
            ink,
        };
    }
    let transform = Transform::nominal(dpi_x, dpi_y);
    let (paper, ink) = levels(img);
    Identified {
        code,
        upside_down: false,
        transform,
        summary: transform.summary(dpi_x, dpi_y),
        residual_mm: 0.0,
        marks: 0,
        code_copies: 0,
        paper,
        ink,
    }
}

/// Paper and ink grey levels of a page from its histogram (the 90th and 1st percentiles).
fn levels(img: &PageImage) -> (f64, f64) {
    if img.bilevel {
        return (255.0, 0.0);
    }
    let mut hist = [0u64; 256];
    for &p in &img.pixels {
        hist[p as usize] += 1;
    }
    let n = img.pixels.len() as u64;
    let at = |share: f64| {
        let target = (n as f64 * share) as u64;
        let mut seen = 0;
        for (level, &count) in hist.iter().enumerate() {
            seen += count;
            if seen > target {
                return level as f64;
            }
        }
        255.0
    };
    (at(0.9), at(0.01))
}
