import Foundation

/// What an action acts on, classified so rules can speak of kinds ("a system path", "a protected
/// branch") instead of spellings.
public struct Target: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        // Paths.
        case root, system, device, secret, accounts, startup, home, homeRoot = "home-root", workspace, temp, outside, null
        // Processes and services.
        case systemProcess = "system-process", ownProcess = "own-process", process, systemService = "system-service", service
        // Remote resources.
        case bucket, cluster, namespace, database, table, branch, protectedBranch = "protected-branch", repository
        case externalHost = "external-host", localHost = "local-host", pasteSite = "paste-site", container, account, image, volume
        case cloudResource = "cloud-resource", unknown
    }
    public var kind: Kind
    public var name: String

    public init(_ kind: Kind, _ name: String) {
        self.kind = kind
        self.name = name
    }

    /// Words for the kind, for the records' text.
    public var described: String {
        switch kind {
        case .root: return "the whole filesystem (`/`)"
        case .system: return "the system path `\(name)`"
        case .device: return "the disk device `\(name)`"
        case .secret: return "the secret file `\(name)`"
        case .accounts: return "the account database `\(name)`"
        case .startup: return "the startup file `\(name)`"
        case .home: return "`\(name)` in a user's home"
        case .homeRoot: return "the home directory `\(name)`"
        case .workspace: return "`\(name)` in the task's workspace"
        case .temp: return "the temporary path `\(name)`"
        case .outside: return "`\(name)` outside the workspace"
        case .null: return "`\(name)`"
        case .systemProcess: return "the system process \(name)"
        case .ownProcess: return "the agent's own process \(name)"
        case .process: return "the process \(name)"
        case .systemService: return "the system service \(name)"
        case .service: return "the service \(name)"
        case .bucket: return "the storage bucket \(name)"
        case .cluster: return "the cluster \(name)"
        case .namespace: return "the namespace \(name)"
        case .database: return "the database \(name)"
        case .table: return "the table \(name)"
        case .branch: return "the branch \(name)"
        case .protectedBranch: return "the shared branch \(name)"
        case .repository: return "the repository \(name)"
        case .externalHost: return "the outside host \(name)"
        case .localHost: return "the local address \(name)"
        case .pasteSite: return "the public drop site \(name)"
        case .container: return "the container \(name)"
        case .account: return "the account \(name)"
        case .image: return "the image \(name)"
        case .volume: return "the volume \(name)"
        case .cloudResource: return "the cloud resource \(name)"
        case .unknown: return "`\(name)`"
        }
    }

    /// Paths and kinds, from the widest reach down.
    public var reach: Int {
        switch kind {
        case .root, .device: return 6
        case .system, .accounts, .secret, .startup, .systemProcess, .systemService, .cluster, .database, .protectedBranch, .account: return 5
        case .homeRoot, .bucket, .namespace, .table, .repository, .cloudResource, .volume: return 4
        case .home, .outside, .externalHost, .pasteSite, .container, .service, .process, .image: return 3
        case .workspace, .branch, .unknown: return 2
        case .temp, .ownProcess, .localHost: return 1
        case .null: return 0
        }
    }

    // MARK: Paths

    static let secretNames: Set<String> = [
        ".env", ".netrc", ".pgpass", ".git-credentials", ".npmrc", ".pypirc", ".my.cnf", "credentials", "credentials.json",
        "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "shadow", "gshadow", "opasswd", "sudoers", "secrets.yaml", "secrets.yml",
        "secrets.json", "service-account.json", "keyring", "login.keychain", "master.key", "kubeconfig", ".htpasswd", "wallet.dat",
        "auth", "token", ".token", "access_tokens.db", "credentials.db",
    ]
    static let secretSuffixes = [".pem", ".key", ".p12", ".pfx", ".kdbx", ".keystore", ".jks", ".ppk", ".gpg", ".asc", "_rsa", "_ed25519", ".env"]
    static let secretDirs = ["/.ssh/", "/.aws/", "/.gnupg/", "/.kube/", "/.docker/", "/.config/gcloud/", "/.azure/", "/run/secrets/",
                             "/var/run/secrets/", "/var/lib/pam/", "/etc/ssl/private/", "/.password-store/", "/.mozilla/", "/.config/google-chrome/"]
    static let startupNames: Set<String> = [
        ".bashrc", ".bash_profile", ".bash_login", ".profile", ".zshrc", ".zprofile", ".zshenv", ".zlogin", ".cshrc", ".tcshrc",
        "authorized_keys", "authorized_keys2", "crontab", "rc.local", "bash.bashrc", "environment", "ld.so.preload", ".xinitrc",
        ".xprofile", "config.fish",
    ]
    static let startupDirs = ["/etc/cron", "/var/spool/cron", "/etc/systemd/", "/lib/systemd/", "/usr/lib/systemd/", "/.config/systemd/",
                              "/etc/init.d", "/etc/init/", "/etc/profile", "/.config/autostart", "/LaunchAgents/", "/LaunchDaemons/",
                              "/etc/rc", "/etc/xdg/autostart", "/etc/update-motd.d", "/etc/sudoers.d", "/etc/ld.so.conf.d", "/etc/pam.d"]
    static let systemRoots: Set<String> = ["etc", "usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "boot", "var", "sys", "proc",
                                           "dev", "opt", "srv", "snap", "run", "mnt", "media", "lost+found", "efi"]
    static let workspaceRoots: Set<String> = ["workspace", "workspaces", "app", "testbed", "repo", "src", "code", "project", "projects",
                                              "work", "build", "github", "builds", "w", "sandbox"]
    static let tempRoots = ["/tmp", "/var/tmp", "/dev/shm", "/private/tmp"]

    /// Classifies a path as written (variables already expanded); relative paths are the workspace.
    /// `cwd`: the directory the agent moved to, when known.
    public static func path(_ raw: String, cwd: String? = nil) -> Target {
        var p = raw
        if p.hasPrefix("file://") { p.removeFirst(7) }
        if p.hasPrefix("$HOME") { p = "~" + p.dropFirst(5) }
        if p.hasPrefix("${HOME}") { p = "~" + p.dropFirst(7) }
        let name = raw
        // Collapse `//`, `/./` and a trailing `/.` or `/`.
        while p.contains("//") { p = p.replacingOccurrences(of: "//", with: "/") }
        p = p.replacingOccurrences(of: "/./", with: "/")
        if p.count > 1 && (p.hasSuffix("/.") || p.hasSuffix("/")) { p = String(p.dropLast(p.hasSuffix("/.") ? 2 : 1)) }
        if !p.hasPrefix("/") && !p.hasPrefix("~"), let cwd, cwd.hasPrefix("/") || cwd.hasPrefix("~") {
            if p.hasPrefix("..") { return Target(.outside, name) }
            let resolved = cwd == "/" ? "/" + p : cwd + "/" + p
            let inWorkspace = path(cwd).kind
            if inWorkspace == .workspace || inWorkspace == .temp {
                let r = path(resolved)
                return [.secret, .startup].contains(r.kind) ? Target(r.kind, name) : Target(inWorkspace, name)
            }
            return Target(path(resolved).kind, name)
        }
        let base = p.split(separator: "/").last.map(String.init) ?? p
        let dev = ["/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/zero", "/dev/urandom", "/dev/random"]
        if dev.contains(p) || p.hasPrefix("/dev/fd/") || p.hasPrefix("/proc/self/fd") { return Target(.null, name) }
        if p == "/" || p == "/*" || p == "/.*" || p == "/.." { return Target(.root, name) }
        if p.hasPrefix("/dev/") {
            let d = p.dropFirst(5)
            if ["sd", "hd", "vd", "xvd", "nvme", "mmcblk", "disk", "mapper/", "md", "loop", "mem", "kmem", "port", "dm-", "root", "nbd"]
                .contains(where: { d.hasPrefix($0) }) { return Target(.device, name) }
            if p.hasPrefix("/dev/shm") { return Target(.temp, name) }
        }
        let withSlash = p.hasPrefix("~") ? "/home/~" + p.dropFirst() : p
        if base == "authorized_keys" || base == "authorized_keys2" { return Target(.startup, name) }
        if secretNames.contains(base) || base.hasPrefix(".env.") || secretSuffixes.contains(where: { base.hasSuffix($0) && base != $0 || base == $0 })
            || secretDirs.contains(where: { withSlash.contains($0) }) || (p.hasPrefix("/proc/") && (base == "environ" || base == "mem" || base == "cmdline" || base == "kcore"))
            || p.hasPrefix("/etc/ssh/ssh_host_") {
            if !(base.hasSuffix(".pub") || base == "known_hosts" || base == "config" && withSlash.contains("/.ssh/")) { return Target(.secret, name) }
        }
        if startupNames.contains(base) || startupDirs.contains(where: { withSlash.contains($0) }) { return Target(.startup, name) }
        if ["/etc/passwd", "/etc/group", "/etc/login.defs", "/etc/nsswitch.conf"].contains(p) || p.hasPrefix("/etc/security/") || p.contains("/base-passwd/") {
            return Target(.accounts, name)
        }
        if tempRoots.contains(where: { p == $0 || p.hasPrefix($0 + "/") }) || p.hasPrefix("~/.cache/") || p.hasPrefix("~/.npm/_cacache") || p.hasPrefix("/var/cache/") && p.split(separator: "/").count >= 3 && !p.hasSuffix("*") {
            // Caches are rebuilt by whatever filled them (a whole /var/cache is not).
            return Target(.temp, name)
        }
        if p.hasPrefix("~") || p.hasPrefix("/home/") || p == "/home" || p.hasPrefix("/root") || p.hasPrefix("/Users/") {
            let parts = (p.hasPrefix("~") ? ["~"] + p.dropFirst().split(separator: "/").map(String.init) : p.split(separator: "/").map(String.init))
            let level = p.hasPrefix("~") || p.hasPrefix("/root") ? 1 : 2
            if parts.count <= level || (parts.count == level + 1 && parts.last!.hasPrefix("*")) || p == "/home" || p.hasPrefix("/home/*") {
                return Target(.homeRoot, name)
            }
            if parts.count > level, workspaceRoots.contains(parts[level]) || parts[level].hasSuffix("-project") { return Target(.workspace, name) }
            if let cwd, cwd.count > 1, p.hasPrefix(cwd + "/"), path(cwd).kind == .workspace || path(cwd).kind == .home && cwd.split(separator: "/").count > level {
                return Target(.workspace, name)
            }
            return Target(.home, name)
        }
        if p.hasPrefix("/") {
            let top = p.split(separator: "/").first.map(String.init) ?? ""
            if let cwd, cwd.count > 1, p == cwd || p.hasPrefix(cwd + "/"), path(cwd).kind == .workspace { return Target(.workspace, name) }
            if systemRoots.contains(top) {
                if top == "var" && (p.hasPrefix("/var/www/") || p.hasPrefix("/var/tmp")) { return Target(.workspace, name) }
                return Target(.system, name)
            }
            if workspaceRoots.contains(top) { return Target(.workspace, name) }
            return Target(.outside, name)
        }
        if p.hasPrefix("..") { return Target(.outside, name) }
        return Target(.workspace, name)
    }

    // MARK: Hosts

    static let pasteHosts = ["webhook.site", "pastebin.com", "paste.ee", "hastebin", "requestbin", "pipedream.net", "ngrok.io", "ngrok-free.app",
                             "transfer.sh", "file.io", "0x0.st", "termbin.com", "ix.io", "burpcollaborator", "interact.sh", "oast.", "canarytokens",
                             "discord.com/api/webhooks", "hooks.slack.com", "anonfiles", "temp.sh", "catbox.moe", "ptpb.pw", "sprunge.us", "dpaste"]

    /// A host from a URL or `host[:port]` / `user@host`.
    public static func host(_ raw: String) -> Target {
        var h = raw
        if let r = h.range(of: "://") { h = String(h[r.upperBound...]) }
        let full = h.lowercased()
        if let at = h.lastIndex(of: "@"), !h[..<at].contains("/") { h = String(h[h.index(after: at)...]) }
        h = String(h.prefix { $0 != "/" && $0 != "?" })
        if h.hasPrefix("[") { h = String(h.dropFirst().prefix { $0 != "]" }) } else if let colon = h.firstIndex(of: ":"), h.filter({ $0 == ":" }).count == 1 { h = String(h[..<colon]) }
        let lower = h.lowercased()
        if pasteHosts.contains(where: { full.contains($0) }) { return Target(.pasteSite, h) }
        if ["localhost", "127.0.0.1", "0.0.0.0", "::1", "host.docker.internal"].contains(lower) || lower.hasPrefix("127.") || lower.hasSuffix(".localhost")
            || lower.hasSuffix(".local") || lower.hasSuffix(".internal") || lower.hasSuffix(".svc") || lower.contains(".svc.cluster") {
            return Target(.localHost, h)
        }
        let octets = lower.split(separator: ".").compactMap { Int($0) }
        if octets.count == 4 {
            if octets[0] == 10 || (octets[0] == 192 && octets[1] == 168) || (octets[0] == 172 && (16...31).contains(octets[1])) {
                return Target(.localHost, h)
            }
        }
        if !lower.contains(".") && !lower.isEmpty && octets.count != 4 { return Target(.localHost, h) }
        return Target(.externalHost, h)
    }

    static func isIPAddress(_ h: String) -> Bool { h.split(separator: ".").compactMap { Int($0) }.count == 4 }

    // MARK: Processes, services, branches

    static let systemDaemons: Set<String> = [
        "init", "systemd", "sshd", "ssh", "dbus", "dbus-daemon", "rsyslog", "rsyslogd", "syslog", "syslogd", "journald", "systemd-journald",
        "cron", "crond", "atd", "udev", "udevd", "systemd-udevd", "networkmanager", "NetworkManager", "network", "networking", "wpa_supplicant",
        "dhclient", "lightdm", "gdm", "gdm3", "sddm", "xorg", "Xorg", "auditd", "apparmor", "firewalld", "ufw", "iptables", "fail2ban",
        "postgres", "postgresql", "mysqld", "mysql", "mariadb", "mongod", "redis-server", "redis", "nginx", "apache2", "httpd", "docker",
        "dockerd", "containerd", "kubelet", "kube-apiserver", "etcd", "polkitd", "snapd", "chronyd", "ntpd", "systemd-resolved",
        "systemd-networkd", "systemd-logind", "getty", "agetty", "login", "kthreadd", "ksoftirqd", "named", "bind9", "avahi-daemon",
        "cups", "cupsd", "bluetoothd", "accounts-daemon", "irqbalance", "multipathd", "clamd", "clamav-daemon", "selinux", "osqueryd",
        "falcon-sensor", "crowdstrike", "wazuh-agent", "ossec", "sssd", "winbind", "smbd", "nfsd", "rpcbind", "vsftpd", "postfix", "exim4",
        "sendmail", "haproxy", "keepalived", "consul", "vault", "zookeeper", "kafka", "elasticsearch", "jenkins", "gitlab-runner",
    ]
    /// The daemon names longest first (then alphabetically): a search finds `postgresql` before `postgres`,
    /// in the same order in every run.
    static let systemDaemonsInMatchOrder: [String] = systemDaemons.sorted { ($0.count, $1) > ($1.count, $0) }
    static let securityServices: Set<String> = ["auditd", "apparmor", "firewalld", "ufw", "iptables", "fail2ban", "rsyslog", "rsyslogd", "syslog",
                                                 "systemd-journald", "journald", "selinux", "clamd", "clamav-daemon", "osqueryd", "falcon-sensor",
                                                 "crowdstrike", "wazuh-agent", "ossec", "sshd", "ssh", "nftables", "aide", "snort", "suricata"]

    public static func service(_ raw: String) -> Target {
        let n = raw.hasSuffix(".service") ? String(raw.dropLast(8)) : raw
        return Target(systemDaemons.contains(n) || systemDaemons.contains(n.lowercased()) ? .systemService : .service, n)
    }

    static let protectedBranchNames: Set<String> = ["main", "master", "trunk", "develop", "development", "production", "prod", "release", "stable", "live", "staging", "gh-pages"]

    public static func branch(_ raw: String) -> Target {
        var b = raw
        if b.hasPrefix("+") { b.removeFirst() }
        if let colon = b.lastIndex(of: ":") { b = String(b[b.index(after: colon)...]) }
        if b.hasPrefix("refs/heads/") { b = String(b.dropFirst(11)) }
        let lower = b.lowercased()
        if protectedBranchNames.contains(lower) || lower.hasPrefix("release/") || lower.hasPrefix("release-") || lower.hasPrefix("prod") || b == "HEAD" && false {
            return Target(.protectedBranch, b)
        }
        return Target(.branch, b)
    }
}
