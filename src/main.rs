use std::cell::Cell;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use prevent_assure::cli::{Cli, run};
use tracing_subscriber::EnvFilter;

// Under load the server spent a sixth of its time in glibc's malloc and free (perf, on the
// views); mimalloc is made for many small, short-lived allocations across threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    no_transparent_huge_pages();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(give_back_freed_memory)
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(serve()),
        Err(e) => {
            eprintln!("error: could not start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

/// How often, at most, a worker thread hands its freed memory back.
const COLLECT_EVERY: Duration = Duration::from_millis(100);

/// When a worker thread runs out of work, hands what its heap holds freed back to the
/// operating system, at most every `COLLECT_EVERY` on each thread. mimalloc returns a thread's
/// freed pages when that thread next allocates or frees, so a worker that read megabytes of
/// request bodies and then went idle kept them: 30 s after `bench/memory`'s flood the server
/// stayed 26–30 MB above its cold start without this, 16–17 MB with it (two runs each).
fn give_back_freed_memory() {
    thread_local! {
        static LAST: Cell<Option<Instant>> = const { Cell::new(None) };
    }
    LAST.with(|last| {
        let now = Instant::now();
        if last
            .get()
            .is_some_and(|t| now.duration_since(t) < COLLECT_EVERY)
        {
            return;
        }
        last.set(Some(now));
        // SAFETY: mi_collect takes no pointers; it frees what this thread's heap holds unused.
        unsafe { libmimalloc_sys::mi_collect(false) };
    });
}

async fn serve() -> ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_env("LOG_LEVEL")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info,sqlx=warn"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f == "json") {
        logs.json().init();
    } else {
        logs.init();
    }
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Keeps the kernel from making this process's memory into transparent huge pages. mimalloc
/// asks for them on its arena (`MADV_HUGEPAGE`), and the kernel's khugepaged then fills each
/// 2 MiB around a page the server touched: an idle server grew by 20 MB in 30 s after a burst
/// of requests (`AnonHugePages` in `/proc/<pid>/smaps_rollup`; `bench/memory`). mimalloc's own
/// switch for this (`MIMALLOC_ALLOW_THP=0`) is read before `main`, so from the environment only.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes integers only and changes no memory of ours; it fails
    // harmlessly on a kernel without it.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
