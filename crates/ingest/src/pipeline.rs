//! The page pipeline: files are opened in order and their pages handed, one at a time, to rayon
//! workers; results go to one writer in the order the pages came.
//!
//! ```text
//! files ──► Jobs (one thread at a time pulls: opens files, reads TIFF/PDF pages; PDF pages
//!     decoded) ──par_bridge──► workers (decode fax TIFF pages, PNG, JPEG; identify, read,
//!     crop) ──bounded channel──► writer (reorders, stores one file per transaction)
//! ```
//!
//! Memory stays bounded whatever the file size: a page is decoded only when a worker is free
//! to take it, and at most [`CHANNEL`] finished pages wait for the writer.

use std::path::PathBuf;
use std::time::Instant;

use capsurvey_scan::{EncodedPage, Format, PageImage, PageSource};
use rayon::iter::{ParallelBridge as _, ParallelIterator as _};
use tokio::sync::mpsc;

use crate::catalog::Catalog;
use crate::page::{PageOutcome, ProcessedPage, StageTimes, process};

/// Finished pages waiting for the writer.
pub const CHANNEL: usize = 8;

/// A unit of work, in file order.
pub(crate) enum Job {
    /// A file could not be opened at all.
    FileFailed { file: usize, error: String },
    /// A TIFF or PDF page read from its file (or the error reading it gave); a fax page's
    /// CCITT decoding is left to the worker, so that pages of one file decode in parallel.
    Page {
        file: usize,
        index: u32,
        page: Result<EncodedPage, capsurvey_scan::PageError>,
        decode_ms: f64,
    },
    /// A one-page PNG or JPEG, decoded by the worker (so single-image files decode in parallel).
    Single { file: usize, source: PageSource },
    /// No more pages in this file.
    FileEnd { file: usize },
}

/// What the writer receives.
pub(crate) enum Msg {
    FileFailed {
        file: usize,
        error: String,
    },
    Page {
        file: usize,
        page: Box<ProcessedPage>,
    },
    FileEnd {
        file: usize,
    },
}

/// Pulls pages from the files in order.
struct Jobs {
    files: Vec<(usize, PathBuf)>,
    next_file: usize,
    current: Option<(usize, PageSource, u32)>,
}

impl Iterator for Jobs {
    type Item = Job;

    fn next(&mut self) -> Option<Job> {
        loop {
            if let Some((file, source, index)) = &mut self.current {
                let t = Instant::now();
                // Only reading here (the iterator is shared by the workers); the worker decodes.
                match source.next_encoded() {
                    Some(page) => {
                        let job = Job::Page {
                            file: *file,
                            index: *index,
                            page,
                            decode_ms: t.elapsed().as_secs_f64() * 1000.0,
                        };
                        *index += 1;
                        return Some(job);
                    }
                    None => {
                        let file = *file;
                        self.current = None;
                        return Some(Job::FileEnd { file });
                    }
                }
            }
            let (file, path) = self.files.get(self.next_file)?.clone();
            self.next_file += 1;
            match capsurvey_scan::open(&path) {
                Err(e) => {
                    return Some(Job::FileFailed {
                        file,
                        error: e.to_string(),
                    });
                }
                Ok(source) if matches!(source.format(), Format::Png | Format::Jpeg) => {
                    // The end marker follows from the worker side (see `run`).
                    return Some(Job::Single { file, source });
                }
                Ok(source) => self.current = Some((file, source, 0)),
            }
        }
    }
}

impl Job {
    /// File, page, and whether the job also ends its file.
    fn place(&self) -> (usize, Option<u32>, bool) {
        match self {
            Job::FileFailed { file, .. } | Job::FileEnd { file } => (*file, None, false),
            Job::Page { file, index, .. } => (*file, Some(*index), false),
            Job::Single { file, .. } => (*file, Some(0), true),
        }
    }
}

/// A bug in reading one page must not take the batch with it: the page is reported as failed
/// (and kept out of the store), the rest goes on.
fn internal_error(
    (file, index, ends_file): (usize, Option<u32>, bool),
    panic: Box<dyn std::any::Any + Send>,
) -> Vec<Msg> {
    let what = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown".into());
    let mut out = Vec::new();
    match index {
        Some(index) => out.push(Msg::Page {
            file,
            page: Box::new(ProcessedPage {
                index,
                hash: None,
                outcome: PageOutcome::Failed {
                    error: format!(
                        "page {}: internal error while reading it ({what}); please report it",
                        index + 1
                    ),
                },
                image: None,
                times: StageTimes::default(),
            }),
        }),
        None => out.push(Msg::FileFailed {
            file,
            error: format!("internal error ({what}); please report it"),
        }),
    }
    if ends_file {
        out.push(Msg::FileEnd { file });
    }
    out
}

fn work(job: Job, catalog: &Catalog) -> Vec<Msg> {
    match job {
        Job::FileFailed { file, error } => vec![Msg::FileFailed { file, error }],
        Job::FileEnd { file } => vec![Msg::FileEnd { file }],
        Job::Page {
            file,
            index,
            page,
            decode_ms,
        } => {
            let t = Instant::now();
            let page = page.and_then(EncodedPage::decode);
            let decode_ms = decode_ms + t.elapsed().as_secs_f64() * 1000.0;
            vec![Msg::Page {
                file,
                page: Box::new(handle(index, page, decode_ms, catalog)),
            }]
        }
        Job::Single { file, mut source } => {
            let t = Instant::now();
            let page = source.next();
            let decode_ms = t.elapsed().as_secs_f64() * 1000.0;
            let mut out = Vec::with_capacity(2);
            if let Some(page) = page {
                out.push(Msg::Page {
                    file,
                    page: Box::new(handle(0, page, decode_ms, catalog)),
                });
            }
            out.push(Msg::FileEnd { file });
            out
        }
    }
}

fn handle(
    index: u32,
    page: Result<PageImage, capsurvey_scan::PageError>,
    decode_ms: f64,
    catalog: &Catalog,
) -> ProcessedPage {
    match page {
        Ok(img) => process(index, img, decode_ms, catalog),
        Err(e) => ProcessedPage {
            index,
            hash: None,
            outcome: PageOutcome::Failed {
                error: e.to_string(),
            },
            image: None,
            times: StageTimes {
                decode: decode_ms,
                ..Default::default()
            },
        },
    }
}

/// Starts the pipeline over `files` (index in the caller's list, path) on a thread of its own;
/// each job's messages arrive together, tagged with the job's sequence number (file and page
/// order).
pub(crate) fn run(
    files: Vec<(usize, PathBuf)>,
    catalog: std::sync::Arc<Catalog>,
) -> mpsc::Receiver<(u64, Vec<Msg>)> {
    let (tx, rx) = mpsc::channel(CHANNEL);
    std::thread::spawn(move || {
        let jobs = Jobs {
            files,
            next_file: 0,
            current: None,
        };
        jobs.enumerate()
            .par_bridge()
            .for_each_with(tx, |tx, (seq, job)| {
                let place = job.place();
                let msgs =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(job, &catalog)))
                        .unwrap_or_else(|panic| internal_error(place, panic));
                // The writer hangs up only when it gives up; the other workers stop soon after.
                let _ = tx.blocking_send((seq as u64, msgs));
            });
    });
    rx
}
