use micro::stats_handler;

struct Users;

impl Users {
    #[stats_handler]
    fn stats(&self) -> u8 {
        0
    }
}

fn main() {}
