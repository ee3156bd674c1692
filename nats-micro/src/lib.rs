//! The NATS Service API ("micro") runtime: endpoints as tower services. Arrives with its own issue.
