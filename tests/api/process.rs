//! The real binary as a child process: started with arguments and
//! environment, its log read line by line, stopped by signal.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

pub struct Process {
    child: Child,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
    /// Every log line read so far.
    pub seen: Vec<String>,
}

impl Process {
    /// Starts the binary; its stderr (the log) is read as it comes.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Process {
        let mut command = Command::new(env!("CARGO_BIN_EXE_partnership-registry"));
        command.args(args).stderr(Stdio::piped()).stdout(Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("the binary starts");
        let stderr = child.stderr.take().expect("stderr");
        let (lines_tx, lines) = tokio::sync::mpsc::unbounded_channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = lines_tx.send(line);
            }
        });
        Process { child, lines, seen: Vec::new() }
    }

    /// Runs the binary to its end (a command such as `token create`) and returns its stdout.
    pub fn output(args: &[&str], env: &[(&str, &str)]) -> String {
        let mut command = Command::new(env!("CARGO_BIN_EXE_partnership-registry"));
        command.args(args);
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().expect("the binary runs");
        assert!(output.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// Waits (at most a minute) for a log line holding `marker`, and returns
    /// what follows it up to a space, quote or slash: `listening on http://`
    /// gives the address.
    pub async fn after(&mut self, marker: &str) -> String {
        let found = tokio::time::timeout(Duration::from_secs(60), async {
            if let Some(found) = self.seen.iter().find_map(|line| after(line, marker)) {
                return Some(found);
            }
            while let Some(line) = self.lines.recv().await {
                self.seen.push(line.clone());
                if let Some(found) = after(&line, marker) {
                    return Some(found);
                }
            }
            None
        })
        .await;
        found.ok().flatten().unwrap_or_else(|| panic!("no log line with {marker:?} within a minute: {:#?}", self.seen))
    }

    /// Every log line written so far, read.
    pub fn drain(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the process ends where it stands.
    pub fn kill(&mut self) {
        self.child.kill().expect("the process is killed");
    }

    /// Waits for the process to end.
    pub async fn wait(mut self) -> (ExitStatus, Process) {
        let (child, status) = tokio::task::spawn_blocking(move || {
            let status = self.child.wait();
            (self, status)
        })
        .await
        .expect("joined");
        (status.expect("the process ends"), child)
    }
}

fn after(line: &str, marker: &str) -> Option<String> {
    let at = line.find(marker)?;
    line[at + marker.len()..].split([' ', '"', '/']).next().map(str::to_owned)
}
