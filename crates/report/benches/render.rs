//! Handout for 10,000 synthetic facilities: aggregation and rendering time, HTML size.
//!
//! `cargo bench -p capsurvey-report` (prints figures; no statistics harness needed for a
//! number a person reads once per release).

use std::time::Instant;

use capsurvey_report::testing::{shipped_survey, synthetic_input};
use capsurvey_report::{Renderer, ReportOptions, aggregate};

fn main() {
    let n: usize = std::env::var("CAPSURVEY_BENCH_FACILITIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let date = chrono::NaiveDate::from_ymd_opt(2025, 1, 20).expect("date");
    let renderer = Renderer::new(None).expect("default templates");
    println!("facilities  survey            respondents  aggregate  render   total    HTML");
    for id in ["dental", "homecare-clinic", "visiting-nurse"] {
        let parsed = shipped_survey(id);
        let t0 = Instant::now();
        let input = synthetic_input(&parsed.survey, n, 42);
        let generated = t0.elapsed();
        let mut opts = ReportOptions::new(date);
        opts.min_cell = 3;
        let t1 = Instant::now();
        let report = aggregate(&input, &opts);
        let aggregated = t1.elapsed();
        let t2 = Instant::now();
        let html = renderer.render(&report).expect("render");
        let rendered = t2.elapsed();
        let respondents = input
            .facilities
            .iter()
            .filter(|f| f.is_respondent())
            .count();
        println!(
            "{n:>10}  {id:<16}  {respondents:>11}  {:>7.0}ms  {:>5.0}ms  {:>5.0}ms  {:>5.1} MB   (synthetic data {:.0}ms, {} listed, {} capability columns)",
            aggregated.as_secs_f64() * 1e3,
            rendered.as_secs_f64() * 1e3,
            (aggregated + rendered).as_secs_f64() * 1e3,
            html.len() as f64 / 1e6,
            generated.as_secs_f64() * 1e3,
            report.capabilities.listed,
            report.capabilities.columns.len(),
        );
    }
}
