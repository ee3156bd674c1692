//! The synchronous sensor pipeline of the `sensors` example, in the style of the
//! documentation's blocking pub/sub backend: plain threads and the blocking client, no async
//! code. A publisher thread sends temperature readings to `sensors.<id>.temperature`; workers,
//! each on a thread and a connection of its own, share them through one queue group, so that
//! every reading is processed by exactly one worker.
//!
//! ```no_run
//! use examples::sensors::{Pipeline, Report};
//! use nats_core::ConnectConfig;
//!
//! fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//!     let config = ConnectConfig::from_env()?; // NATS_URL, NATS_CREDS, ...
//!     let report: Report = Pipeline::new(200).run(&config)?;
//!     assert!(report.missing().is_empty() && report.duplicates().is_empty());
//!     Ok(())
//! }
//! ```

use std::collections::BTreeMap;
use std::thread::{self, JoinHandle};

use nats_core::blocking::{Client, Subscription};
use nats_core::ConnectConfig;
use serde::{Deserialize, Serialize};

/// What can go wrong: connecting, publishing, draining, a thread that panicked.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The subjects the workers listen on: every sensor's temperature.
pub const SUBJECTS: &str = "sensors.*.temperature";

/// The queue group the workers share the readings in.
pub const QUEUE_GROUP: &str = "sensor-workers";

/// The subject the sensor `sensor` publishes its temperature on.
pub fn subject(sensor: &str) -> String {
    format!("sensors.{sensor}.temperature")
}

/// One reading, as published: `{"sensor":"t1","celsius":21.5,"seq":7}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// The sensor's id.
    pub sensor: String,
    /// The temperature it measured.
    pub celsius: f64,
    /// The reading's number in the pipeline, from 1.
    pub seq: u64,
}

impl Reading {
    /// The `seq`th reading of `sensors` sensors: they take turns (`t1`, `t2`, ...), and
    /// their temperatures wander around 21 °C, to a tenth of a degree.
    pub fn simulated(seq: u64, sensors: u32) -> Reading {
        let sensors = u64::from(sensors.max(1));
        let index = seq % sensors;
        let wave = (seq as f64 * 0.7 + index as f64).sin() * 3.0;
        Reading {
            sensor: format!("t{}", index + 1),
            celsius: ((21.0 + wave) * 10.0).round() / 10.0,
            seq,
        }
    }
}

/// The readings of one sensor a worker (or the whole pipeline) processed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SensorStats {
    /// How many.
    pub readings: u64,
    /// The lowest temperature.
    pub min: f64,
    /// The highest.
    pub max: f64,
    /// Their sum, for the mean.
    pub sum: f64,
}

impl SensorStats {
    fn new(celsius: f64) -> Self {
        SensorStats {
            readings: 1,
            min: celsius,
            max: celsius,
            sum: celsius,
        }
    }

    fn add(&mut self, other: &SensorStats) {
        self.readings += other.readings;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum += other.sum;
    }

    /// The mean temperature.
    pub fn mean(&self) -> f64 {
        self.sum / self.readings.max(1) as f64
    }
}

/// What one worker processed.
#[derive(Debug, Clone, Default)]
pub struct WorkerReport {
    /// The worker's number, from 1.
    pub worker: usize,
    /// The sequence numbers of the readings it processed, in the order they came.
    pub seqs: Vec<u64>,
    /// Messages that were not readings.
    pub rejected: u64,
    /// Its readings per sensor.
    pub sensors: BTreeMap<String, SensorStats>,
}

impl WorkerReport {
    fn record(&mut self, reading: Reading) {
        self.seqs.push(reading.seq);
        let stats = SensorStats::new(reading.celsius);
        self.sensors
            .entry(reading.sensor)
            .and_modify(|known| known.add(&stats))
            .or_insert(stats);
    }
}

/// What the pipeline did: how many readings were published, and each worker's report.
#[derive(Debug, Clone)]
pub struct Report {
    /// Readings published (numbered 1 to this).
    pub published: u64,
    /// One report per worker, by number.
    pub workers: Vec<WorkerReport>,
}

impl Report {
    /// Readings processed, by all workers together.
    pub fn processed(&self) -> u64 {
        self.workers.iter().map(|w| w.seqs.len() as u64).sum()
    }

    /// How often each sequence number was processed.
    fn times_processed(&self) -> BTreeMap<u64, u32> {
        let mut times = BTreeMap::new();
        for seq in self.workers.iter().flat_map(|w| &w.seqs) {
            *times.entry(*seq).or_insert(0) += 1;
        }
        times
    }

    /// Readings processed more than once (none, in a queue group).
    pub fn duplicates(&self) -> Vec<u64> {
        let times = self.times_processed();
        times
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(seq, _)| seq)
            .collect()
    }

    /// Readings published but never processed (none, once the workers drained).
    pub fn missing(&self) -> Vec<u64> {
        let times = self.times_processed();
        (1..=self.published)
            .filter(|seq| !times.contains_key(seq))
            .collect()
    }

    /// Every worker's readings per sensor, together.
    pub fn sensors(&self) -> BTreeMap<String, SensorStats> {
        let mut all: BTreeMap<String, SensorStats> = BTreeMap::new();
        for (sensor, stats) in self.workers.iter().flat_map(|w| &w.sensors) {
            all.entry(sensor.clone())
                .and_modify(|known| known.add(stats))
                .or_insert(*stats);
        }
        all
    }
}

/// The shape of a run: how many readings, from how many sensors, to how many workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pipeline {
    /// Readings to publish.
    pub readings: u64,
    /// Sensors taking turns.
    pub sensors: u32,
    /// Workers in the queue group.
    pub workers: usize,
}

impl Pipeline {
    /// `readings` readings from 3 sensors to 2 workers.
    pub fn new(readings: u64) -> Self {
        Pipeline {
            readings,
            sensors: 3,
            workers: 2,
        }
    }

    /// Runs the pipeline against the server `config` names: the workers subscribe (each on
    /// a connection and a thread of its own), the publisher thread publishes every reading
    /// and flushes, then each worker's connection is drained, which hands it what the server
    /// sent it and ends its subscription, and the workers' reports are collected.
    ///
    /// # Errors
    /// When a connection, a subscription, a publish, a flush or a drain fails, or a thread
    /// panicked.
    pub fn run(&self, config: &ConnectConfig) -> Result<Report, Error> {
        let mut connections = Vec::new();
        let mut workers = Vec::new();
        for worker in 1..=self.workers {
            let client = connect(config, &format!("sensor-worker-{worker}"))?;
            let subscription = client.queue_subscribe(SUBJECTS, QUEUE_GROUP)?;
            // Once flushed, the server has the subscription: no reading can miss it.
            client.flush()?;
            workers.push(thread::spawn(move || work(worker, subscription)));
            connections.push(client);
        }

        let publisher = connect(config, "sensor-publisher")?;
        let (readings, sensors) = (self.readings, self.sensors);
        let published = join(thread::spawn(move || {
            publish(&publisher, readings, sensors)
        }))??;

        // The publisher's flush returned: the server has routed every reading to a worker.
        // Draining a worker's connection delivers what it was sent, then ends its iterator.
        for client in &connections {
            client.drain()?;
        }
        let workers = workers
            .into_iter()
            .map(join)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Report { published, workers })
    }
}

/// A blocking client of `config`'s server, named `name` (as the server's monitoring shows
/// it).
fn connect(config: &ConnectConfig, name: &str) -> Result<Client, Error> {
    Ok(Client::connect_with(
        config.options().name(name),
        config.servers(),
    )?)
}

/// The publisher thread: `readings` readings of `sensors` sensors, flushed, then the
/// connection drained and closed.
fn publish(client: &Client, readings: u64, sensors: u32) -> Result<u64, Error> {
    for seq in 1..=readings {
        let reading = Reading::simulated(seq, sensors);
        client.publish(subject(&reading.sensor), serde_json::to_vec(&reading)?)?;
    }
    client.flush()?;
    client.drain()?;
    Ok(readings)
}

/// A worker thread: processes readings until its subscription ends.
fn work(worker: usize, subscription: Subscription) -> WorkerReport {
    let mut report = WorkerReport {
        worker,
        ..WorkerReport::default()
    };
    for message in subscription {
        match serde_json::from_slice::<Reading>(&message.payload) {
            Ok(reading) => report.record(reading),
            Err(_) => report.rejected += 1,
        }
    }
    report
}

/// The result of a thread, or an error when it panicked.
fn join<T>(thread: JoinHandle<T>) -> Result<T, Error> {
    thread
        .join()
        .map_err(|_| "a pipeline thread panicked".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensors_take_turns_around_21_degrees() {
        let readings: Vec<Reading> = (1..=6).map(|seq| Reading::simulated(seq, 3)).collect();
        let sensors: Vec<&str> = readings.iter().map(|r| r.sensor.as_str()).collect();
        assert_eq!(sensors, ["t2", "t3", "t1", "t2", "t3", "t1"]);
        assert!(readings.iter().all(|r| (18.0..=24.0).contains(&r.celsius)));
        let json = serde_json::to_string(&readings[0]).expect("json");
        assert!(json.starts_with(r#"{"sensor":"t2","celsius":"#), "{json}");
        assert!(json.ends_with(r#","seq":1}"#), "{json}");
    }

    #[test]
    fn a_report_finds_duplicates_and_gaps() {
        let worker = |worker, seqs: &[u64]| WorkerReport {
            worker,
            seqs: seqs.to_vec(),
            ..WorkerReport::default()
        };
        let report = Report {
            published: 5,
            workers: vec![worker(1, &[1, 3]), worker(2, &[2, 3])],
        };
        assert_eq!(report.processed(), 4);
        assert_eq!(report.duplicates(), [3]);
        assert_eq!(report.missing(), [4, 5]);
    }

    #[test]
    fn stats_merge_across_workers() {
        let mut one = WorkerReport::default();
        one.record(Reading {
            sensor: "t1".into(),
            celsius: 20.0,
            seq: 1,
        });
        let mut two = WorkerReport::default();
        two.record(Reading {
            sensor: "t1".into(),
            celsius: 22.0,
            seq: 2,
        });
        let report = Report {
            published: 2,
            workers: vec![one, two],
        };
        let t1 = report.sensors()["t1"];
        assert_eq!((t1.readings, t1.min, t1.max), (2, 20.0, 22.0));
        assert!((t1.mean() - 21.0).abs() < 1e-9);
    }
}
