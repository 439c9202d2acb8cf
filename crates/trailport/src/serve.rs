//! `trailport serve`: the emulator server.

use crate::cli::ServeArgs;
use anyhow::Context;
use import_engine::{DirResolver, Engine, EngineConfig, SourceResolver};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

pub fn run(a: ServeArgs) -> anyhow::Result<ExitCode> {
    let s3 = a.s3_endpoint.as_ref().map(|e| {
        // `aws` means AWS itself: the standard endpoint resolution.
        let endpoint = (e != "aws").then(|| e.clone());
        a.s3.options(endpoint)
    });
    let resolver: Arc<dyn SourceResolver> = Arc::new(crate::sources::ServerResolver {
        dirs: DirResolver {
            root: a.buckets_dir.clone(),
        },
        s3,
    });
    let mut config = EngineConfig {
        clock: crate::clock()?,
        resolver,
        pace_per_file: a.pace_per_file.map(Duration::from_millis),
        max_object_bytes: a.max_object_mb << 20,
        pace_per_batch: a.pace_per_batch.map(Duration::from_millis),
        strict_log_class: a.strict_log_class,
        ..Default::default()
    };
    a.hooks.apply(&mut config);
    let engine = Arc::new(
        Engine::open(&a.db, config).with_context(|| format!("opening {}", a.db.display()))?,
    );
    // Imports that were running when the server last stopped go on where they were.
    for id in engine.resume_interrupted()? {
        eprintln!("resuming import {id}");
    }
    // Lake queries it was running cannot go on (their rows are incomplete): they end FAILED.
    let failed = engine.fail_interrupted_queries()?;
    if failed > 0 {
        eprintln!("{failed} interrupted queries marked FAILED");
    }
    // And so do Logs import tasks, at their first unwritten batch.
    for id in engine.resume_log_tasks()? {
        eprintln!("resuming import task {id}");
    }
    let app = Arc::new(aws_api::App {
        engine,
        account: a.account_id,
        limits: aws_api::ServeLimits {
            max_connections: a.max_connections,
            header_timeout: Duration::from_secs(a.header_timeout),
            body_timeout: Duration::from_secs(a.body_timeout),
            ..Default::default()
        },
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(a.addr)
            .await
            .with_context(|| format!("binding {}", a.addr))?;
        eprintln!(
            "trailport serving CloudTrail and CloudWatch Logs on http://{} (database {}, buckets in {})",
            listener.local_addr()?,
            a.db.display(),
            a.buckets_dir.display()
        );
        aws_api::serve(listener, app, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
