//! Starting one service: its private root file system (a copy of the image, owned by the
//! workload user) and two generated shell scripts.
//!
//! `launch.sh` runs on the host as a child of the runner in its own session: it joins the
//! service's cgroups (so everything it starts is accounted and limited), marks `started`,
//! runs `init.sh` under `unshare` in new pid, mount, uts and ipc namespaces with a fresh
//! `/proc`, and records the exit status in `exit_status` when the namespace ends.
//! `init.sh` is pid 1 of the new namespaces: it sets the host name, binds `/dev/null` and
//! friends into the root, then `exec`s the workload chrooted, as the unprivileged workload
//! user (capabilities dropped by the uid change; `no_new_privs` set and the bounding set
//! cut to what `chroot --userspec` needs, so nothing can regain privileges), with only the
//! manifest's environment.
//! Scripts instead of `pre_exec` hooks: the workspace forbids `unsafe`, and a shell
//! between fork and exec is also what lets the workload outlive the runner.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::BackendError;

/// Device nodes bound into every root (from the host).
const DEVICES: [&str; 4] = ["null", "zero", "random", "urandom"];
/// `PATH` inside the workload.
const WORKLOAD_PATH: &str = "/bin:/sbin:/usr/bin:/usr/sbin";
/// The file in an image naming its default command, one argument per line.
pub(crate) const ENTRYPOINT_FILE: &str = ".ve-entrypoint";

/// Files of one service under `<lease dir>/<service>/`.
#[derive(Clone, Debug)]
pub(crate) struct ServiceDir(pub PathBuf);

impl ServiceDir {
    pub fn rootfs(&self) -> PathBuf {
        self.0.join("rootfs")
    }
    pub fn log(&self) -> PathBuf {
        self.0.join("output.log")
    }
    pub fn exit_status_path(&self) -> PathBuf {
        self.0.join("exit_status")
    }
    fn started(&self) -> PathBuf {
        self.0.join("started")
    }

    /// The workload's exit status as the launcher saw it (`unshare` reports death by
    /// signal N as 128 + N); `None` while running or if the launcher itself died.
    pub fn exit_status(&self) -> Option<i32> {
        fs::read_to_string(self.exit_status_path())
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

/// Everything needed to start one service.
#[derive(Debug)]
pub(crate) struct Launch<'a> {
    pub dir: &'a ServiceDir,
    pub image_dir: &'a Path,
    pub hostname: &'a str,
    pub argv: &'a [String],
    pub env: &'a [String],
    pub uid: u32,
    pub gid: u32,
    pub cgroup_procs: &'a [PathBuf],
}

impl Launch<'_> {
    /// Builds the root, writes the scripts, starts the launcher and waits until it has
    /// joined the cgroups (so the service is accounted from its first instruction).
    pub fn start(&self) -> Result<(), BackendError> {
        self.prepare_rootfs()?;
        let launch = self.dir.0.join("launch.sh");
        let init = self.dir.0.join("init.sh");
        write_script(&init, &self.init_script())?;
        write_script(&launch, &self.launch_script(&init))?;

        let mut child = Command::new("setsid")
            .arg("/bin/sh")
            .arg(&launch)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| BackendError::io("starting setsid (util-linux)", e))?;
        // The launcher is our child while we live: reap it so it does not linger as a
        // zombie. After a runner restart it is adopted by init, which reaps it.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait().ok().and_then(|s| s.code()));
        });
        for _ in 0..500 {
            if self.dir.started().exists() {
                return Ok(());
            }
            if let Ok(code) = rx.try_recv() {
                return Err(BackendError::Command {
                    command: format!("{}", launch.display()),
                    message: format!("launcher exited with {code:?} before starting the service (97 = could not join its cgroups)"),
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Err(BackendError::Command {
            command: format!("{}", launch.display()),
            message: "launcher did not start the service within 5 s".into(),
        })
    }

    fn prepare_rootfs(&self) -> Result<(), BackendError> {
        let root = self.dir.rootfs();
        fs::create_dir_all(&root)
            .map_err(|e| BackendError::io(format!("creating {}", root.display()), e))?;
        let mut src = self.image_dir.as_os_str().to_owned();
        src.push("/.");
        run(Command::new("cp").arg("-a").arg(&src).arg(&root))?;
        for d in ["proc", "dev", "tmp", "data"] {
            let p = root.join(d);
            fs::create_dir_all(&p)
                .map_err(|e| BackendError::io(format!("creating {}", p.display()), e))?;
        }
        for d in DEVICES {
            let p = root.join("dev").join(d);
            fs::write(&p, b"")
                .map_err(|e| BackendError::io(format!("creating {}", p.display()), e))?;
        }
        // The copy is the tenant's own: it may write anywhere in it.
        run(Command::new("chown")
            .arg("-R")
            .arg(format!("{}:{}", self.uid, self.gid))
            .arg(&root))
    }

    fn launch_script(&self, init: &Path) -> String {
        let d = &self.dir;
        let procs: Vec<String> = self.cgroup_procs.iter().map(|p| q(p)).collect();
        format!(
            "#!/bin/sh\n\
             # Generated by ve-backend (process runner): see crates/backend/src/process/launch.rs.\n\
             for f in {procs}; do echo $$ > \"$f\" || exit 97; done\n\
             : > {started}\n\
             unshare --pid --fork --mount --uts --ipc --propagation private --mount-proc={proc} \
             /bin/sh {init} >> {log} 2>&1 < /dev/null\n\
             echo $? > {st}.tmp && mv {st}.tmp {st}\n",
            procs = procs.join(" "),
            started = q(&d.started()),
            proc = q(&d.rootfs().join("proc")),
            init = q(init),
            log = q(&d.log()),
            st = q(&d.exit_status_path()),
        )
    }

    fn init_script(&self) -> String {
        let root = self.dir.rootfs();
        let mut binds = String::new();
        for d in DEVICES {
            binds.push_str(&format!(
                "mount --bind /dev/{d} {}\n",
                q(&root.join("dev").join(d))
            ));
        }
        let mut env = vec![format!("PATH={WORKLOAD_PATH}"), "HOME=/data".to_string()];
        env.extend(self.env.iter().cloned());
        let env: Vec<String> = env.iter().map(|e| qs(e)).collect();
        let argv: Vec<String> = self.argv.iter().map(|a| qs(a)).collect();
        format!(
            "#!/bin/sh\n\
             # Generated by ve-backend: pid 1 of the workload's namespaces until it execs.\n\
             set -e\n\
             hostname {host}\n\
             {binds}\
             exec setpriv --no-new-privs --bounding-set=-all,+sys_chroot,+setuid,+setgid \
             env -i {env} chroot --userspec={uid}:{gid} --groups={gid} {root} {argv}\n",
            host = qs(self.hostname),
            env = env.join(" "),
            uid = self.uid,
            gid = self.gid,
            root = q(&root),
            argv = argv.join(" "),
        )
    }
}

/// The command a service runs: the manifest's command (or the image's default) plus its
/// args, with `${PORT}` / `${PORT_<n>}` replaced by the host ports.
pub(crate) fn resolve_argv(
    image_dir: &Path,
    command: &[String],
    args: &[String],
    vars: &[(String, String)],
) -> Result<Vec<String>, BackendError> {
    let mut argv: Vec<String> = if command.is_empty() {
        let p = image_dir.join(ENTRYPOINT_FILE);
        match fs::read_to_string(&p) {
            Ok(s) => s
                .lines()
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect(),
            Err(_) => Vec::new(),
        }
    } else {
        command.to_vec()
    };
    argv.extend(args.iter().cloned());
    if argv.is_empty() {
        return Err(BackendError::InvalidSpec(format!(
            "no command given and image {} has no default ({ENTRYPOINT_FILE})",
            image_dir.display()
        )));
    }
    Ok(argv.iter().map(|a| expand(a, vars)).collect())
}

/// Replaces `${NAME}` for each `(NAME, value)`.
pub(crate) fn expand(s: &str, vars: &[(String, String)]) -> String {
    let mut out = s.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("${{{k}}}"), v);
    }
    out
}

fn write_script(path: &Path, body: &str) -> Result<(), BackendError> {
    fs::write(path, body).map_err(|e| BackendError::io(format!("writing {}", path.display()), e))
}

fn run(cmd: &mut Command) -> Result<(), BackendError> {
    let out = cmd
        .output()
        .map_err(|e| BackendError::io(format!("running {cmd:?}"), e))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(BackendError::Command {
            command: format!("{cmd:?}"),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

/// Single-quotes a path for sh.
fn q(p: &Path) -> String {
    qs(&p.to_string_lossy())
}

/// Single-quotes a string for sh: `'` becomes `'\''`.
fn qs(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_survives_quotes_and_dollars() {
        assert_eq!(qs("a'b $X"), r"'a'\''b $X'");
    }

    #[test]
    fn port_placeholders_are_replaced() {
        let vars = vec![
            ("PORT".to_string(), "31000".to_string()),
            ("PORT_80".to_string(), "31000".to_string()),
        ];
        assert_eq!(
            expand("-p ${PORT} ${PORT_80} $PORT", &vars),
            "-p 31000 31000 $PORT"
        );
    }
}
