//! `pub` and `sub`: publishing messages and printing what arrives on a subject.

use std::io::Write;

use clap::Args;
use nats_core::{Client, SubscribeOptions};

use crate::error::CliError;
use crate::message::{self, Header, MessageJson};
use crate::output;

/// `pub SUBJECT [BODY]`: publishes a message, or `--count` of them.
#[derive(Debug, Args)]
pub(crate) struct PubArgs {
    /// The subject to publish to; `{{Count}}` is replaced as in the body
    subject: String,
    /// The message body; `{{Count}}` is the message's number (from 1), `{{Unix}}` and
    /// `{{UnixNano}}` the time
    #[arg(default_value = "")]
    body: String,
    /// Adds a header, as NAME:VALUE (repeatable)
    #[arg(short = 'H', long = "header", value_name = "K:V", value_parser = message::parse_header)]
    headers: Vec<Header>,
    /// A reply subject for the receivers to answer to
    #[arg(long, value_name = "SUBJECT")]
    reply: Option<String>,
    /// How many messages to publish
    #[arg(long, default_value_t = 1, value_name = "N")]
    count: u64,
}

/// Publishes, then waits until the server has every message.
pub(crate) async fn publish(client: &Client, args: &PubArgs) -> Result<(), CliError> {
    let headers = message::header_map(&args.headers);
    let mut bytes = 0;
    for number in 1..=args.count {
        let subject = message::fill_template(&args.subject, number);
        let body = message::fill_template(&args.body, number);
        bytes += body.len();
        let sent = match (&args.reply, &headers) {
            (None, None) => client.publish(&subject, body).await,
            (Some(reply), None) => client.publish_with_reply(&subject, reply, body).await,
            (None, Some(headers)) => {
                client
                    .publish_with_headers(&subject, headers.clone(), body)
                    .await
            }
            (Some(reply), Some(headers)) => {
                client
                    .publish_with_reply_and_headers(&subject, reply, headers.clone(), body)
                    .await
            }
        };
        sent.map_err(|source| CliError::Publish { subject, source })?;
    }
    client.flush().await?;
    let plural = if args.count == 1 { "" } else { "s" };
    eprintln!(
        "published {} message{plural} ({bytes} bytes) to {:?}",
        args.count, args.subject
    );
    Ok(())
}

/// `sub SUBJECT`: prints every message until `--count` arrived or the program is stopped.
#[derive(Debug, Args)]
pub(crate) struct SubArgs {
    /// The subject to subscribe to; wildcards `*` and `>` allowed
    subject: String,
    /// Joins this queue group: each message goes to one member
    #[arg(long, value_name = "GROUP")]
    queue: Option<String>,
    /// Stops after this many messages
    #[arg(long, value_name = "N")]
    count: Option<u64>,
}

/// Subscribes, says so on stderr once the server has the subscription, then prints each
/// message: as text, or with `json` as one JSON object a line.
pub(crate) async fn subscribe(client: &Client, args: &SubArgs, json: bool) -> Result<(), CliError> {
    let options = SubscribeOptions {
        queue_group: args.queue.clone(),
        max_msgs: args.count,
        ..SubscribeOptions::default()
    };
    let subject = args.subject.clone();
    let mut subscriber = client
        .subscribe_with(&subject, options)
        .await
        .map_err(|source| CliError::Subscribe {
            subject: subject.clone(),
            source,
        })?;
    // Once flushed, the server has the subscription: what is published now arrives.
    client.flush().await?;
    match &args.queue {
        Some(queue) => eprintln!("subscribed to {subject:?} in queue group {queue:?}"),
        None => eprintln!("subscribed to {subject:?}"),
    }
    let mut out = std::io::stdout().lock();
    let mut received = 0;
    while args.count.is_none_or(|count| received < count) {
        let message = match subscriber.try_next().await {
            Ok(Some(message)) => message,
            Ok(None) => return Err(CliError::Closed { subject }),
            Err(source) => return Err(CliError::Subscribe { subject, source }),
        };
        received += 1;
        if json {
            output::print_json_line(&mut out, &MessageJson::new(&message))?;
        } else {
            message::print_text(&mut out, received, &message)?;
        }
    }
    out.flush()?;
    Ok(())
}
