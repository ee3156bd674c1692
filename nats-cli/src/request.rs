//! `request` and `reply`: one request and its reply, and a responder that answers every
//! request with the same body.

use std::io::Write;
use std::time::{Duration, Instant};

use clap::Args;
use nats_core::{Client, RequestOptions, SubscribeOptions};
use nats_micro::ServiceError;

use crate::duration;
use crate::error::CliError;
use crate::message::{self, Header, MessageJson};
use crate::output;

/// `request SUBJECT [BODY]`: sends a request and prints the reply.
#[derive(Debug, Args)]
pub(crate) struct RequestArgs {
    /// The subject to send the request to
    subject: String,
    /// The request body; `{{Count}}`, `{{Unix}}` and `{{UnixNano}}` are filled in
    #[arg(default_value = "")]
    body: String,
    /// Adds a header, as NAME:VALUE (repeatable)
    #[arg(short = 'H', long = "header", value_name = "K:V", value_parser = message::parse_header)]
    headers: Vec<Header>,
}

/// Sends the request and waits for the reply within `timeout`.
///
/// The reply's body goes to stdout (with `json`, the whole reply as one JSON object), its
/// headers and round-trip time to stderr. A Service API error reply (`Nats-Service-Error`
/// headers) is the error `service error <code>: <description>`, after its body if it has one.
pub(crate) async fn request(
    client: &Client,
    args: &RequestArgs,
    timeout: Duration,
    json: bool,
) -> Result<(), CliError> {
    let body = message::fill_template(&args.body, 1);
    let mut options = RequestOptions::new().payload(body).timeout(timeout);
    if let Some(headers) = message::header_map(&args.headers) {
        options = options.headers(headers);
    }
    let started = Instant::now();
    let reply = client
        .send_request(&args.subject, options)
        .await
        .map_err(|source| CliError::request(&args.subject, timeout, source))?;
    let rtt = started.elapsed();
    let mut out = std::io::stdout().lock();
    if json {
        output::print_json_line(&mut out, &MessageJson::new(&reply))?;
    } else {
        let mut err = std::io::stderr().lock();
        writeln!(err, "received a reply in {}", duration::human(rtt))?;
        if let Some(headers) = reply.headers.as_ref().filter(|h| !h.is_empty()) {
            message::print_headers(&mut err, headers)?;
        }
        let error = ServiceError::from_message(&reply);
        // An error reply's body is often empty: print it only when there is one.
        if error.is_none() || !reply.payload.is_empty() {
            message::print_body(&mut out, &reply.payload)?;
        }
    }
    out.flush()?;
    match ServiceError::from_message(&reply) {
        Some(error) => Err(error.into()),
        None => Ok(()),
    }
}

/// `reply SUBJECT [BODY]`: answers every request on a subject with the same body.
#[derive(Debug, Args)]
pub(crate) struct ReplyArgs {
    /// The subject to answer on
    subject: String,
    /// The reply body; `{{Count}}` is the request's number (from 1), `{{Unix}}` and
    /// `{{UnixNano}}` the time
    #[arg(default_value = "")]
    body: String,
    /// Adds a header to every reply, as NAME:VALUE (repeatable)
    #[arg(short = 'H', long = "header", value_name = "K:V", value_parser = message::parse_header)]
    headers: Vec<Header>,
    /// The queue group to answer in, so that several responders share the requests
    #[arg(
        short = 'q',
        long,
        value_name = "GROUP",
        default_value = "NATS-RPLY-22"
    )]
    queue: String,
    /// Stops after answering this many requests
    #[arg(long, value_name = "N")]
    count: Option<u64>,
}

/// Answers requests until `--count` were answered or the program is stopped, printing each
/// request as `sub` does (with `json`, one JSON object a line).
pub(crate) async fn reply(client: &Client, args: &ReplyArgs, json: bool) -> Result<(), CliError> {
    let subject = args.subject.clone();
    let options = SubscribeOptions {
        queue_group: Some(args.queue.clone()),
        ..SubscribeOptions::default()
    };
    let mut subscriber = client
        .subscribe_with(&subject, options)
        .await
        .map_err(|source| CliError::Subscribe {
            subject: subject.clone(),
            source,
        })?;
    client.flush().await?;
    eprintln!(
        "answering requests on {subject:?} in queue group {:?}",
        args.queue
    );
    let headers = message::header_map(&args.headers);
    let mut out = std::io::stdout().lock();
    let mut answered = 0;
    while args.count.is_none_or(|count| answered < count) {
        let request = match subscriber.try_next().await {
            Ok(Some(request)) => request,
            Ok(None) => return Err(CliError::Closed { subject }),
            Err(source) => return Err(CliError::Subscribe { subject, source }),
        };
        let Some(reply_to) = &request.reply else {
            eprintln!(
                "ignored a message on {:?} with no reply subject",
                request.subject.as_str()
            );
            continue;
        };
        answered += 1;
        if json {
            output::print_json_line(&mut out, &MessageJson::new(&request))?;
        } else {
            message::print_text(&mut out, answered, &request)?;
        }
        let body = message::fill_template(&args.body, answered);
        let sent = match &headers {
            Some(headers) => {
                client
                    .publish_with_headers(reply_to, headers.clone(), body)
                    .await
            }
            None => client.publish(reply_to, body).await,
        };
        sent.map_err(|source| CliError::Publish {
            subject: reply_to.to_string(),
            source,
        })?;
    }
    // Every answer reaches the server before the program exits.
    client.flush().await?;
    Ok(())
}
