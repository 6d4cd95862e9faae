//! SQL functions trailsql adds to DataFusion, with the names and meaning Athena
//! users know.
//!
//! It imports nothing of trailsql outside `functions/`.

pub mod allow;
pub mod attempt;
pub mod by;
pub mod coalesce;
pub mod geoip;
pub mod json;
pub mod net;
pub mod policy;
pub mod sigma;
pub mod time;
pub mod trino;

use datafusion::prelude::SessionContext;

/// Register every trailsql function on a session.
pub fn register_all(ctx: &SessionContext) {
    for udf in allow::udfs()
        .into_iter()
        .chain([coalesce::udf()])
        .chain(attempt::udfs())
        .chain(json::udfs())
        .chain(net::udfs())
        .chain(policy::udfs())
        .chain(sigma::udfs())
        .chain(time::udfs())
        .chain(trino::udfs())
        .chain(geoip::udfs(Default::default()))
    {
        ctx.register_udf(udf);
    }
    for udaf in by::udafs() {
        ctx.register_udaf(udaf);
    }
    ctx.add_analyzer_rule(std::sync::Arc::new(attempt::TryRule));
}
