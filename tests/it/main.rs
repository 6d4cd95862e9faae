//! The one integration-test binary (linking DataFusion is slow, so every
//! integration test lives here as a module). Tests drive the real `trailsql`
//! binary where a user would, and the library where they check data.

mod athena;
mod cli;
mod convert;
mod corpus;
mod correlate;
mod delta;
mod fuzz;
mod history;
mod hostile;
mod hunt;
mod identity;
mod onepass;
mod places;
mod report;
mod results;
mod s3;
mod s3server;
mod sample;
mod saved;
mod shell;
mod slt;
mod util;
mod verify;
