//! The Prometheus recorder behind `/metrics`: every layer counts through the `metrics`
//! facade, this recorder keeps the values, and a scrape renders them in the text format
//! (docs/operations.md lists every metric).

use std::sync::OnceLock;
use std::time::Duration;

use chat_api::{MetricsEndpoint, MetricsToken};
use chat_domain::SEND_DURATION_METRIC;
use chat_store_pg::{BATCH_SIZE_METRIC, PgStore};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::startup::StartupError;

/// Upper bounds of the send latency histogram's buckets, in seconds.
const SEND_BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
/// Upper bounds of the group-commit batch size histogram's buckets, in messages.
const BATCH_BUCKETS: [f64; 10] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
/// How often histograms are folded in when nobody scrapes, so that their samples do not pile up.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Gauges of the database pool, set at each scrape.
const POOL_CONNECTIONS: &str = "chat_db_pool_connections";
const POOL_MAX: &str = "chat_db_pool_max_connections";
const POOL_WAITING: &str = "chat_db_pool_waiting";

/// The process's recorder: installed by the first server built in the process and shared by
/// every later one (tests build several).
static RECORDER: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

fn recorder() -> Result<PrometheusHandle, StartupError> {
    RECORDER
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(SEND_DURATION_METRIC.into()), &SEND_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(BATCH_SIZE_METRIC.into()),
                        &BATCH_BUCKETS,
                    )
                })
                .and_then(PrometheusBuilder::install_recorder)
                .map_err(|e| e.to_string())?;
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP_EVERY);
                        upkeep.run_upkeep();
                    }
                })
                .map_err(|e| e.to_string())?;
            Ok(handle)
        })
        .clone()
        .map_err(|reason| StartupError::Config(format!("cannot record metrics: {reason}")))
}

/// `/metrics` for this server: the recorder's values and the pool's state at scrape time,
/// behind `token` when there is one.
pub(crate) fn endpoint(
    store: &PgStore,
    token: Option<MetricsToken>,
) -> Result<MetricsEndpoint, StartupError> {
    let handle = recorder()?;
    let store = store.clone();
    Ok(MetricsEndpoint::new(
        move || {
            let pool = store.pool_status();
            let idle = pool.idle as f64;
            let in_use = pool.open.saturating_sub(pool.idle) as f64;
            metrics::gauge!(POOL_CONNECTIONS, "state" => "in_use").set(in_use);
            metrics::gauge!(POOL_CONNECTIONS, "state" => "idle").set(idle);
            metrics::gauge!(POOL_MAX).set(pool.max as f64);
            metrics::gauge!(POOL_WAITING).set(pool.waiting as f64);
            handle.run_upkeep();
            handle.render()
        },
        token,
    ))
}
