//! Generating the forms of 1,000 facilities for the longest shipped survey (visiting-nurse):
//! layout and template once, then one PDF per facility on all cores; then the combined print file.
//! Prints forms per second and kilobytes per form.
//!
//! `cargo bench -p capsurvey-forms --bench generate`

use std::time::Instant;

use capsurvey_forms::campaign::Campaign;
use capsurvey_forms::form::{Facility, FormInstance, FormKind, FormTemplate, layout};
use capsurvey_forms::pdf::{DocumentInfo, write_combined};

/// Forms generated (1,000); `CAPSURVEY_BENCH_FORMS` overrides.
fn facilities_count() -> usize {
    std::env::var("CAPSURVEY_BENCH_FORMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// CPU time used by this process so far (user + system), from /proc/self/stat (Linux, in
/// USER_HZ = 100 ticks per second); `None` elsewhere. Reported next to wall time because other
/// work on the machine stretches wall time but not CPU time.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

const SURVEYS: [(&str, &str); 3] = [
    ("dental", include_str!("../../../surveys/dental.toml")),
    (
        "homecare-clinic",
        include_str!("../../../surveys/homecare-clinic.toml"),
    ),
    (
        "visiting-nurse",
        include_str!("../../../surveys/visiting-nurse.toml"),
    ),
];

fn facility(i: usize) -> Facility {
    const KINDS: [&str; 4] = [
        "訪問看護ステーション",
        "訪問看護ステーションみどり",
        "ナースステーション",
        "訪問看護センター",
    ];
    const PLACES: [&str; 6] = ["中央", "東が丘", "西みどり", "北の森", "南さくら台", "緑川"];
    Facility {
        code: format!("136{:07}", i + 1),
        name: format!(
            "{}{}{}",
            PLACES[i % 6],
            KINDS[i % 4],
            if i.is_multiple_of(3) {
                " 第二事業所"
            } else {
                ""
            }
        ),
        postal_code: Some(format!("100-{:04}", i % 10_000)),
        address: Some(format!(
            "みどり市{}{}丁目{}番{}号",
            PLACES[(i / 6) % 6],
            i % 5 + 1,
            i % 30 + 1,
            i % 9 + 1
        )),
        phone: Some(format!("0120-{:03}-{:03}", i % 1000, (i * 7) % 1000)),
        fax: i
            .is_multiple_of(2)
            .then(|| format!("0120-{:03}-{:03}", (i * 3) % 1000, (i * 11) % 1000)),
    }
}

/// Peak resident memory so far in MB (Linux).
fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
}

fn main() {
    let campaign = Campaign::parse(
        "campaign.toml",
        include_str!("../../../fixtures/campaign.toml"),
    )
    .expect("campaign");
    let date = chrono::NaiveDate::from_ymd_opt(2024, 11, 8).expect("date");
    // The longest survey: the most pages, then the most boxes.
    let (id, parsed) = SURVEYS
        .iter()
        .map(|(id, text)| {
            (
                *id,
                capsurvey_survey::parse_survey(id, text).expect("survey"),
            )
        })
        .max_by_key(|(_, p)| {
            let l = layout(&p.survey, &p.content_hash);
            (
                l.pages.len(),
                l.pages.iter().map(|p| p.boxes.len()).sum::<usize>(),
            )
        })
        .expect("surveys");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let facilities_total = facilities_count();

    let t = Instant::now();
    let l = layout(&parsed.survey, &parsed.content_hash);
    let layout_time = t.elapsed();
    let t = Instant::now();
    let template =
        FormTemplate::new(&parsed.survey, &parsed.content_hash, &campaign, date).expect("template");
    let template_time = t.elapsed();

    let facilities: Vec<Facility> = (0..facilities_total).map(facility).collect();
    let codes: Vec<String> = (0..facilities_total)
        .map(|i| format!("N-{:06}", i + 1))
        .collect();
    let t = Instant::now();
    let cpu0 = cpu_seconds();
    let chunk = facilities_total.div_ceil(threads);
    let results: Vec<(usize, capsurvey_forms::pdf::Document)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let (template, facilities, codes) = (&template, &facilities, &codes);
                s.spawn(move || {
                    let mut out = Vec::new();
                    for i in k * chunk..((k + 1) * chunk).min(facilities_total) {
                        let doc = template
                            .render(&FormInstance {
                                kind: FormKind::Initial,
                                facility: Some(&facilities[i]),
                                survey_version_id: 3,
                                mailing_id: i as u32 + 1,
                                form_code: Some(&codes[i]),
                            })
                            .expect("render");
                        let pdf = doc.to_pdf().expect("pdf");
                        out.push((pdf.len(), doc));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker"))
            .collect()
    });
    let forms_time = t.elapsed();
    let forms_cpu = cpu_seconds().zip(cpu0).map(|(a, b)| a - b);
    let peak_forms = peak_memory_mb();
    let sizes: Vec<usize> = results.iter().map(|r| r.0).collect();
    let docs: Vec<_> = results.into_iter().map(|r| r.1).collect();
    let t = Instant::now();
    let cpu1 = cpu_seconds();
    let combined = write_combined(&DocumentInfo::new("print file"), &docs).expect("combined");
    let combined_time = t.elapsed();
    let combined_cpu = cpu_seconds().zip(cpu1).map(|(a, b)| a - b);
    let peak_all = peak_memory_mb();

    let total: usize = sizes.iter().sum();
    let per_sec = facilities_total as f64 / forms_time.as_secs_f64();
    println!(
        "survey `{id}`: {} pages per form (cover letter included), {} answer boxes",
        l.pages.len(),
        l.pages.iter().map(|p| p.boxes.len()).sum::<usize>()
    );
    println!(
        "layout: {:.1} ms; template (layout + shared pages): {:.1} ms",
        layout_time.as_secs_f64() * 1e3,
        template_time.as_secs_f64() * 1e3
    );
    println!(
        "{facilities_total} forms on {threads} threads: {:.2} s, {per_sec:.0} forms/s ({:.2} ms per form per thread)",
        forms_time.as_secs_f64(),
        forms_time.as_secs_f64() * 1e3 * threads as f64 / facilities_total as f64
    );
    if let Some(cpu) = forms_cpu {
        println!(
            "CPU time: {:.2} ms per form, i.e. {:.0} forms/s on {threads} otherwise idle cores",
            cpu * 1e3 / facilities_total as f64,
            facilities_total as f64 * threads as f64 / cpu.max(1e-9)
        );
    }
    println!(
        "size per form: mean {:.1} KB, max {:.1} KB, min {:.1} KB",
        total as f64 / facilities_total as f64 / 1024.0,
        *sizes.iter().max().expect("forms") as f64 / 1024.0,
        *sizes.iter().min().expect("forms") as f64 / 1024.0
    );
    println!(
        "combined print file: {} pages, {:.1} MB in {:.2} s",
        docs.iter().map(|d| d.pages().len()).sum::<usize>(),
        combined.len() as f64 / 1024.0 / 1024.0,
        combined_time.as_secs_f64()
    );
    if let Some(cpu) = combined_cpu {
        println!("combined print file CPU time: {cpu:.2} s");
    }
    if let (Some(a), Some(b)) = (peak_forms, peak_all) {
        println!("peak memory: {a:.0} MB after the forms, {b:.0} MB after the print file");
    }
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!(
            "load average during the run: {}",
            load.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
}
