//! Serving until Ctrl-C or SIGTERM, then stopping gracefully.

use std::io;

use nats_micro::Service;

/// Waits for Ctrl-C (SIGINT) or, on Unix, SIGTERM; returns the signal's name.
///
/// # Errors
/// When the signal handlers cannot be installed.
pub async fn shutdown_signal() -> io::Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.map(|()| "SIGINT"),
            _ = terminate.recv() => Ok("SIGTERM"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map(|()| "Ctrl-C")
    }
}

/// Prints `<name> <id> serving`, serves until [`shutdown_signal`], then stops `service`
/// (requests already received are still answered) and prints `stopped`.
///
/// # Errors
/// When the signal handlers cannot be installed, or when the service stopped by itself
/// because its connection closed.
pub async fn serve_until_signal(service: &Service) -> Result<(), Box<dyn std::error::Error>> {
    println!("{} {} serving", service.name(), service.id());
    let outcome = tokio::select! {
        signal = shutdown_signal() => signal.map(|name| eprintln!("{name}: stopping")),
        () = service.stopped() => Err(io::Error::other("the connection closed")),
    };
    service.stop().await;
    println!("stopped");
    Ok(outcome?)
}
