//! `nats-rs`, a command-line tool for NATS modelled on the NATS CLI (`nats`): the services on
//! a bus (`micro ls|info|stats|ping`), `pub`, `sub`, `request` and `reply`, JetStream's
//! streams (`stream ls|info|add|rm`), Key-Value buckets (`kv ls|info|add|get|put|del|rm`) and
//! Object Store buckets (`object ls|info|add|put|get|rm`).
//!
//! Exit status: 0 on success, 1 when the command failed (the reason on stderr as
//! `nats-rs: <message>`), 2 for a usage error.

mod cli;
mod confirm;
mod connect;
mod duration;
mod error;
mod jetstream;
mod kv;
mod message;
mod micro;
mod object;
mod output;
mod progress;
mod pubsub;
mod request;
mod size;
mod stream;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("nats-rs: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli.run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.is_broken_pipe() => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("nats-rs: {error}");
            ExitCode::FAILURE
        }
    }
}
