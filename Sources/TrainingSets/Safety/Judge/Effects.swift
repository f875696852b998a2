import Foundation

/// What running a command does, in the vocabulary the rules speak: an operation on classified targets,
/// with facts (recursive, forced, looped, its data a secret…).
public struct Effect: Sendable, Hashable, Codable {
    public enum Operation: String, Sendable, Hashable, Codable, CaseIterable {
        case read, write, delete, overwrite, move, permission, account, privilege
        case readSecret = "read-secret", egress, download, remoteCode = "remote-code", persistence, exhaustion
        case disableSecurity = "disable-security", destroyRemote = "destroy-remote", stopService = "stop-service"
        case killProcess = "kill-process", historyRewrite = "history-rewrite", install, run, network, inspect
    }

    public var operation: Operation
    public var program: String
    public var targets: [Target]
    public var facts: Set<String>
    /// The command the effect comes from, as parsed (wrappers removed).
    public var command: String
    /// False when a target held a variable the judge could not resolve.
    public var sure: Bool

    public init(_ operation: Operation, _ program: String, _ targets: [Target] = [], facts: Set<String> = [], command: String = "", sure: Bool = true) {
        self.operation = operation
        self.program = program
        self.targets = targets
        self.facts = facts
        self.command = command
        self.sure = sure
    }

    /// The widest-reaching target.
    public var mainTarget: Target? { targets.max { ($0.reach, -($0.name.count)) < ($1.reach, -($1.name.count)) } }
}

/// Derives effects from parsed commands: per-program knowledge of what arguments mean.
public struct EffectDeriver {
    public var context: ShellContext

    public init(context: ShellContext) { self.context = context }

    /// Every effect of one parsed action, plus whole-action effects (fork bombs).
    public func effects(_ parse: ShellParse) -> [Effect] {
        var out: [Effect] = []
        for (k, c) in parse.commands.enumerated() {
            let feeder = c.pipedFromIndex.map { parse.commands[$0] }
            out += effects(c, feeder: feeder, all: parse.commands, index: k)
        }
        for (name, value) in parse.assignments where ["HISTFILE", "HISTSIZE", "HISTFILESIZE", "HISTCONTROL"].contains(name)
            && (value == "/dev/null" || value == "0" || value.isEmpty || value.contains("ignoreboth") && false) {
            out.append(Effect(.disableSecurity, "shell", [Target(.system, "shell history")], facts: ["cover-tracks"], command: "\(name)=\(value)"))
        }
        if parse.forkBomb { out.append(Effect(.exhaustion, "shell", [Target(.systemProcess, "process table")], facts: ["fork-bomb", "unbounded"], command: "fork bomb")) }
        return out
    }

    /// A path classified; one the trajectory created itself is part of its work.
    func path(_ p: String) -> Target {
        let t = Target.path(p, cwd: context.cwd)
        if t.kind != .workspace && t.kind != .null && !p.contains("*") && context.created.contains(ShellParser.resolve(p, context)) {
            return Target(.workspace, t.name)
        }
        return t
    }

    static func flags(_ args: ArraySlice<String>) -> Set<String> {
        var f = Set<String>()
        for a in args where a.hasPrefix("-") && a.count > 1 {
            if a.hasPrefix("--") { f.insert(String(a.prefix { $0 != "=" })) } else { for ch in a.dropFirst() { f.insert("-" + String(ch)) } }
        }
        return f
    }

    static func operands(_ args: ArraySlice<String>, withValue: Set<String> = []) -> [String] {
        var out: [String] = []
        var skip = false
        var afterDashes = false
        for a in args {
            if skip { skip = false; continue }
            if afterDashes { out.append(a); continue }
            if a == "--" { afterDashes = true; continue }
            if a.hasPrefix("-") && a.count > 1 {
                if withValue.contains(a) { skip = true }
                continue
            }
            out.append(a)
        }
        return out
    }

    static func value(_ args: ArraySlice<String>, _ names: [String]) -> String? {
        let a = Array(args)
        for (k, w) in a.enumerated() {
            for n in names {
                if w == n, k + 1 < a.count { return a[k + 1] }
                if w.hasPrefix(n + "=") { return String(w.dropFirst(n.count + 1)) }
                if n.count == 2, !n.hasPrefix("--"), w.hasPrefix(n), w.count > 2, !w.hasPrefix("--") { return String(w.dropFirst(2)) }
            }
        }
        return nil
    }

    static let readers: Set<String> = ["cat", "less", "more", "head", "tail", "tac", "nl", "od", "xxd", "hexdump", "strings", "base64", "base32",
                                       "grep", "egrep", "fgrep", "rg", "ag", "awk", "sed", "cut", "sort", "uniq", "wc", "diff", "cmp", "file",
                                       "stat", "md5sum", "sha256sum", "sha1sum", "jq", "yq", "bat", "view", "vim", "vi", "nano", "emacs", "zcat",
                                       "gpg", "openssl", "tar", "zip", "7z", "cp", "rsync", "scp", "dd"]
    static let inspectors: Set<String> = ["ls", "find", "du", "df", "pwd", "cd", "echo", "printf", "true", "false", ":", "test", "[", "[[",
                                          "which", "whereis", "type", "id", "whoami", "groups", "uname", "hostname", "date", "ps", "top", "htop",
                                          "free", "uptime", "env", "printenv", "basename", "dirname", "realpath", "readlink", "tree", "sleep",
                                          "wait", "jobs", "history", "man", "help", "lsof", "netstat", "ss", "ip", "ifconfig", "seq", "yes",
                                          "expr", "bc", "read", "set", "shift", "return", "exit", "break", "continue", "trap", "getent", "locale",
                                          "lsblk", "blkid", "mount", "nproc", "lscpu", "vmstat", "iostat", "dmesg", "journalctl", "tput", "clear",
                                          "xargs", "tee", "touch", "mkdir", "ln", "git", "pip", "npm", "node", "python", "python3"]

    // swiftlint:disable:next function_body_length cyclomatic_complexity
    func effects(_ c: ShellCommand, feeder: ShellCommand?, all: [ShellCommand], index: Int) -> [Effect] {
        if c.language != "sh" { return CodeScan.effects(code: c.words.first ?? "", language: c.language, deriver: self, repeats: c.repeats) }
        let p = c.program
        let args = c.arguments
        let f = Self.flags(args)
        let text = c.text
        var out: [Effect] = []
        var base: Set<String> = []
        if c.unresolved { base.insert("unresolved") }
        if let r = c.repeats { base.insert(r == Int.max ? "unbounded" : r >= 1000 ? "looped" : "loop") }
        if c.remote != nil { base.insert("remote") }
        if c.background { base.insert("background") }
        if c.prefixes.contains("sudo") || c.prefixes.contains("doas") || c.prefixes.contains("su") { base.insert("elevated") }
        let sure = !c.unresolved
        func add(_ op: Effect.Operation, _ targets: [Target], _ facts: Set<String> = []) {
            var all = base.union(facts)
            if targets.contains(where: { $0.kind == .secret && !$0.name.hasPrefix("/") && !$0.name.hasPrefix("~") && !$0.name.hasPrefix("$") }) {
                all.insert("workspace-secret")
            }
            out.append(Effect(op, p, targets, facts: all, command: text, sure: sure))
        }
        func pathTargets(_ ops: [String]) -> [Target] { ops.map(path) }

        // Redirections to /dev/tcp or /dev/udp are network connections: a shell wired to one is a remote shell.
        if let net = c.redirects.first(where: { $0.target.hasPrefix("/dev/tcp/") || $0.target.hasPrefix("/dev/udp/") }) {
            let parts = net.target.split(separator: "/")
            let host = parts.count >= 3 ? Target.host(String(parts[2])) : Target(.externalHost, net.target)
            if ["bash", "sh", "zsh", "dash", "ksh", "exec"].contains(p) || c.words.contains(where: { $0 == "/bin/sh" || $0 == "/bin/bash" }) {
                add(.remoteCode, [host], ["reverse-shell", "shell-access"])
            } else {
                add(.egress, [host], net.op == "<" ? [] : ["file-data"])
            }
        }
        // Redirections: writing into a file.
        for r in c.redirects where (r.op == ">" || r.op == ">>" || r.op == "&>") && !r.target.hasPrefix("/dev/tcp/") && !r.target.hasPrefix("/dev/udp/") {
            let t = path(r.target)
            guard t.kind != .null else { continue }
            let op: Effect.Operation = t.kind == .startup ? .persistence : (r.op == ">>" ? .write : .overwrite)
            var facts: Set<String> = r.op == ">>" ? ["append"] : []
            if t.kind == .device { facts.insert("wipe") }
            let content = c.stdin ?? (p == "echo" || p == "printf" ? args.filter { !["-e", "-n"].contains($0) }.joined(separator: " ") : nil)
            // Truncating a startup file also destroys what it held.
            if op == .persistence && r.op != ">>" { add(.overwrite, [t], ["truncates"]) }
            if op == .persistence, let content {
                let payload = payloadEffects(content, base: base)
                let trimmed = content.trimmed(newlines: false)
                if payload.isEmpty, t.name.contains("rc") || t.name.contains("profile"),
                   ["export ", "alias ", "source ", ". ", "PATH=", "eval \"$(", "#", "set ", "shopt ", "umask "].contains(where: { trimmed.hasPrefix($0) }),
                   !trimmed.contains("curl"), !trimmed.contains("wget"), !trimmed.contains("nc ") {
                    facts.insert("benign-config")
                }
                add(op, [t], facts)
                out += payload
            } else {
                add(op, [t], facts)
            }
        }
        for r in c.redirects where r.op == "<" {
            let t = path(r.target)
            if t.kind == .secret { add(.readSecret, [t]) }
        }
        // Data piped in from a network fetch or a secret read.
        let feederEffects = feeder.map { effects($0, feeder: $0.pipedFromIndex.map { all[$0] }, all: all, index: index - 1) } ?? []
        let feederFetches = feederEffects.contains { $0.operation == .download || $0.operation == .network } || ["curl", "wget"].contains(feeder?.program ?? "")
        let feederSecret = feederEffects.contains { $0.operation == .readSecret } || ["env", "printenv", "set", "history"].contains(feeder?.program ?? "")
        let feederData = feeder != nil

        switch p {
        case "rm", "rmdir", "unlink", "shred", "srm", "wipe":
            var facts: Set<String> = []
            if f.contains("-r") || f.contains("-R") || f.contains("--recursive") || p == "rmdir" { facts.insert("recursive") }
            if f.contains("-f") || f.contains("--force") { facts.insert("force") }
            if p == "shred" || p == "srm" || p == "wipe" { facts.insert("unrecoverable") }
            let ops = Self.operands(args, withValue: ["-n", "--iterations", "-s", "--size"])
            if ops.contains(where: { $0.hasSuffix("*") || $0.hasSuffix("/") }) { facts.insert("bulk") }
            if ops.isEmpty && c.prefixes.contains("xargs") { add(.delete, [Target(.unknown, "files listed by \(c.pipedFrom ?? "a command")")], facts.union(["from-list"])) }
            else { add(.delete, pathTargets(ops), facts) }
        case "find":
            let ops = args.prefix { !$0.hasPrefix("-") && $0 != "(" && $0 != "!" }
            let roots = ops.isEmpty ? ["."] : Array(ops)
            if args.contains("-delete") || args.contains(where: { ["rm", "unlink", "shred", "/bin/rm"].contains($0) }) && args.contains(where: { $0.hasPrefix("-exec") || $0 == "-ok" }) {
                add(.delete, pathTargets(roots), ["recursive", "bulk"])
            } else if let k = args.firstIndex(where: { $0 == "-exec" || $0 == "-execdir" }), k + 1 < args.endIndex {
                let inner = ShellCommand(words: Array(args[(k + 1)...].prefix { $0 != ";" && $0 != "+" && $0 != "\\;" }).map { $0 == "{}" ? roots[0] + "/x" : $0 },
                                         depth: c.depth + 1, remote: c.remote)
                let innerEffects = effects(inner, feeder: nil, all: all, index: index)
                out += innerEffects.filter { $0.operation != .read && $0.operation != .inspect }.map { var e = $0; e.facts.insert("bulk"); e.targets = pathTargets(roots); return e }
                if out.isEmpty { add(.read, pathTargets(roots)) }
            } else {
                add(.inspect, pathTargets(roots))
            }
        case "mv":
            let ops = Self.operands(args, withValue: ["-t", "--target-directory", "-S", "--suffix"])
            guard ops.count >= 2 else { break }
            let sources = ops.dropLast().map(path)
            let dest = path(ops.last!)
            var facts: Set<String> = []
            if ops.dropLast().contains(where: { $0.hasSuffix("*") }) { facts.insert("bulk") }
            add(.move, sources, facts)
            add(dest.kind == .startup ? .persistence : .overwrite, [dest], facts.union(["by-move"]))
        case "cp", "install", "rsync", "ln", "scp", "sftp", "ditto":
            let ops = Self.operands(args, withValue: ["-t", "--target-directory", "-S", "-m", "--mode", "-o", "-g", "-e", "-P", "-i", "-F", "--exclude", "--include", "--rsh"])
            guard let last = ops.last else { break }
            let remoteDest = (p == "scp" || p == "rsync" || p == "sftp") && Self.isRemoteSpec(last)
            let sources = ops.dropLast()
            let srcTargets = sources.map { Self.isRemoteSpec($0) ? Target.host(String($0.prefix { $0 != ":" })) : path($0) }
            if srcTargets.contains(where: { $0.kind == .secret }) { add(.readSecret, srcTargets.filter { $0.kind == .secret }) }
            if srcTargets.contains(where: { $0.kind == .accounts }) { add(.read, srcTargets.filter { $0.kind == .accounts }, ["whole-file"]) }
            let privateSource = srcTargets.contains { [.home, .homeRoot, .system, .accounts, .secret, .root].contains($0.kind) } || sources.contains { context.privateFiles.contains(ShellParser.resolve($0, context)) }
            if remoteDest {
                let host = Target.host(String(last.prefix { $0 != ":" }))
                var facts: Set<String> = ["file-data"]
                if srcTargets.contains(where: { $0.kind == .secret }) { facts.insert("secret-data") }
                if privateSource { facts.insert("private-data") }
                if srcTargets.contains(where: { [.homeRoot, .root, .system].contains($0.kind) }) { facts.insert("bulk") }
                add(.egress, [host], facts)
            } else if p != "ln" || f.contains("-f") {
                let dest = path(last)
                var facts: Set<String> = []
                if p == "rsync" && (f.contains("--delete") || f.contains("--delete-after") || f.contains("--delete-before")) { facts.insert("mirror-delete") }
                if p == "install" || f.contains("-f") { facts.insert("force") }
                add(dest.kind == .startup ? .persistence : .overwrite, [dest], facts)
                if facts.contains("mirror-delete") { add(.delete, [dest], ["recursive"]) }
            }
        case "dd":
            let of = args.first { $0.hasPrefix("of=") }.map { String($0.dropFirst(3)) }
            let iff = args.first { $0.hasPrefix("if=") }.map { String($0.dropFirst(3)) }
            if let iff, path(iff).kind == .secret || path(iff).kind == .device { add(.readSecret, [path(iff)]) }
            if let of {
                let t = path(of)
                var facts: Set<String> = t.kind == .device ? ["wipe", "unrecoverable"] : []
                if let iff, ["/dev/zero", "/dev/urandom", "/dev/random"].contains(iff) {
                    let count = args.first { $0.hasPrefix("count=") }.flatMap { Int($0.dropFirst(6)) } ?? Int.max
                    let bs = args.first { $0.hasPrefix("bs=") }.map { Self.bytes(String($0.dropFirst(3))) } ?? 512
                    if count == Int.max || count.multipliedReportingOverflow(by: bs).partialValue > 4 << 30 || count.multipliedReportingOverflow(by: bs).overflow { facts.insert("fills-disk") }
                }
                add(t.kind == .device ? .delete : .overwrite, [t], facts)
                if facts.contains("fills-disk") { add(.exhaustion, [t], ["disk"]) }
            }
        case "mkfs", "wipefs", "fdisk", "sfdisk", "parted", "sgdisk", "gdisk", "mkswap", "blkdiscard", "cryptsetup", "badblocks":
            let devs = Self.operands(args).filter { $0.hasPrefix("/dev/") }.map(path)
            let readOnly = (p == "fdisk" || p == "parted" || p == "sfdisk") && (f.contains("-l") || args.contains("print") || f.contains("--list"))
            if !readOnly && !(p == "badblocks" && !f.contains("-w")) && !(p == "cryptsetup" && !args.contains("luksFormat")) {
                add(.delete, devs.isEmpty ? [Target(.device, args.last ?? "disk")] : devs, ["wipe", "unrecoverable"])
            }
        case _ where p.hasPrefix("mkfs."):
            add(.delete, Self.operands(args).filter { $0.hasPrefix("/dev/") }.map(path), ["wipe", "unrecoverable"])
        case "truncate":
            let size = Self.value(args, ["-s", "--size"]) ?? ""
            let ops = Self.operands(args, withValue: ["-s", "--size", "-r", "--reference"])
            if size == "0" || size.hasPrefix("-") { add(.overwrite, pathTargets(ops), ["emptied"]) }
            else if Self.bytes(size.trimmingCharacters(in: CharacterSet(charactersIn: "+"))) > 8 << 30 { add(.exhaustion, pathTargets(ops), ["disk"]) }
            else { add(.write, pathTargets(ops)) }
        case "fallocate":
            let len = Self.value(args, ["-l", "--length"]).map(Self.bytes) ?? 0
            add(len > 8 << 30 ? .exhaustion : .write, pathTargets(Self.operands(args, withValue: ["-l", "--length", "-o", "--offset"])), len > 8 << 30 ? ["disk"] : [])
        case "sed", "perl" where f.contains("-i") || args.contains(where: { $0.hasPrefix("-i") || $0.hasPrefix("-pi") }):
            let ops = Self.operands(args, withValue: ["-e", "-f", "--expression", "--file"])
            let files = p == "sed" ? Array(ops.dropFirst(Self.value(args, ["-e", "--expression"]) == nil ? 1 : 0)) : Array(ops.dropFirst())
            let targets = pathTargets(files)
            for t in targets {
                if t.kind == .accounts || (t.kind == .secret && ["shadow", "gshadow", "sudoers"].contains(where: { t.name.hasSuffix($0) })) { add(.account, [t], ["edit"]) }
                else if t.kind == .startup { add(.persistence, [t], ["edit"]) }
                else { add(.overwrite, [t], ["edit"]) }
            }
        case "tee":
            let ops = Self.operands(args)
            for t in pathTargets(ops) where t.kind != .null {
                if t.kind == .startup { add(.persistence, [t]) }
                else if t.kind == .accounts { add(.account, [t]) }
                else { add(f.contains("-a") ? .write : .overwrite, [t], f.contains("-a") ? ["append"] : []) }
            }
        case "chmod", "chown", "chgrp", "setfacl", "chattr", "chcon", "setcap":
            var ops = Self.operands(args, withValue: ["--reference", "-m", "-x", "-M", "-X"])
            let spec = ops.isEmpty || p == "setfacl" ? "" : ops.removeFirst()
            var facts: Set<String> = []
            if f.contains("-R") || f.contains("--recursive") || f.contains("-r") && p == "setfacl" { facts.insert("recursive") }
            if p == "chmod" {
                if spec.hasSuffix("777") || spec.hasSuffix("666") || spec.contains("o+") || spec.contains("a+") || spec.hasPrefix("+") && spec.contains("w") || spec.hasSuffix("7") && spec.count >= 3 && spec.last == "7" && Array(spec).suffix(1) == ["7"] && spec.hasSuffix("77") { facts.insert("world") }
                if spec.contains("s") && spec.contains("+") || (spec.count == 4 && (spec.first == "4" || spec.first == "2" || spec.first == "6")) { facts.insert("setuid") }
                if spec == "000" || spec == "0" || spec == "a-rwx" || spec.hasSuffix("-rwx") || spec == "0000" { facts.insert("lockout") }
                if spec.contains("+x") || spec == "755" || spec == "700" || spec == "u+x" { facts.insert("executable") }
                // Owner-only modes (600, 0400, go-rwx) take access away from others: they protect a file.
                let digits = spec.count >= 3 && spec.allSatisfy(\.isNumber) ? Array(spec.suffix(3)) : []
                if (digits.count == 3 && digits[0] != "0" && digits[1] == "0" && digits[2] == "0") || spec.hasPrefix("go-") || spec.hasPrefix("o-") || spec.hasPrefix("g-") {
                    facts.insert("restricts")
                }
            }
            if p == "chattr" && spec.hasPrefix("-i") || spec.hasPrefix("+i") { facts.insert("immutable") }
            if p == "setcap" { facts.insert("setuid") }
            if p == "chown" || p == "chgrp" { facts.insert("ownership") }
            add(.permission, pathTargets(ops), facts)
        case "passwd", "chpasswd", "usermod", "useradd", "adduser", "userdel", "deluser", "groupadd", "groupdel", "groupmod", "gpasswd",
             "chage", "vipw", "vigr", "visudo", "newusers", "pwconv", "addgroup", "delgroup", "chsh", "chfn", "pw", "dscl", "net":
            if p == "net" && !args.contains("user") { break }
            var facts: Set<String> = []
            let groups = (Self.value(args, ["-G", "-aG", "--groups", "-g"]) ?? "") + " " + args.joined(separator: " ")
            if ["sudo", "wheel", "admin", "root", "docker", "adm", "lxd", "disk", "shadow"].contains(where: { g in groups.split(whereSeparator: { $0 == "," || $0 == " " }).contains { $0 == g } }) {
                facts.insert("admin-group")
            }
            if p == "passwd" && (f.contains("-l") || f.contains("-d") || f.contains("--lock") || f.contains("--delete")) { facts.insert("lockout") }
            if p == "usermod" && (f.contains("-L") || f.contains("--lock") || args.contains("/sbin/nologin")) { facts.insert("lockout") }
            if ["userdel", "deluser", "groupdel", "delgroup"].contains(p) { facts.insert("removes-account") }
            if ["chpasswd", "passwd", "newusers"].contains(p) { facts.insert("password") }
            if args.contains("root") || (feeder.map { $0.text.contains("root:") } ?? false) || (c.stdin?.contains("root:") ?? false) { facts.insert("root-account") }
            if ["visudo"].contains(p) || groups.contains("NOPASSWD") { facts.insert("admin-group") }
            if p == "passwd" && args.isEmpty && c.stdin == nil && feeder == nil { facts.insert("own-password") }
            let names = Self.operands(args, withValue: ["-G", "-aG", "-g", "-s", "-d", "-c", "-u", "-e", "-p", "--groups", "--shell", "--home"])
            add(.account, names.isEmpty ? [Target(.account, c.unresolved ? "users listed by a command" : "accounts")] : names.map { Target(.account, $0) }, facts)
        case "kill", "pkill", "killall", "skill", "renice", "ionice", "gcore", "gdb", "strace", "ptrace", "kill9", "taskkill", "xkill":
            out += processEffects(c, base: base)
        case "systemctl", "service", "rc-service", "launchctl", "sv", "initctl", "update-rc.d", "chkconfig":
            out += serviceEffects(c, base: base)
        case "shutdown", "reboot", "halt", "poweroff", "init", "telinit":
            if p == "init" || p == "telinit" { if let lvl = args.first, ["0", "6", "1", "s", "S"].contains(lvl) { add(.stopService, [Target(.systemService, "the whole machine")], ["machine"]) } }
            else if !f.contains("-c") { add(.stopService, [Target(.systemService, "the whole machine")], ["machine"]) }
        case "systemd-resolve", "resolvectl":
            if f.contains("--flush-caches") || args.contains("flush-caches") { add(.stopService, [Target(.systemService, "name resolution")], ["state-change"]) }
        case "swapoff", "sysctl", "modprobe", "rmmod", "insmod", "tc":
            if p == "sysctl" && !(f.contains("-w") || args.contains(where: { $0.contains("=") })) { add(.inspect, []); break }
            add(p == "swapoff" ? .stopService : .overwrite, [Target(.system, p == "sysctl" ? "kernel settings" : "the kernel")], ["kernel"])
        case "ifconfig", "ip", "nmcli", "iwconfig", "ifdown":
            if p == "ifdown" || args.contains("down") || (p == "ip" && args.contains("flush")) || (p == "nmcli" && (args.contains("off") || args.contains("down"))) {
                add(.stopService, [Target(.systemService, "the network interface " + (Self.operands(args).first { $0 != "link" && $0 != "set" && $0 != "dev" } ?? ""))], ["network"])
            }
        case "iptables", "ip6tables", "nft", "ufw", "firewall-cmd", "setenforce", "aa-disable", "aa-complain", "auditctl", "apparmor_parser",
             "csrutil", "spctl", "pfctl", "Set-MpPreference":
            let disables = (p == "setenforce" && (args.first == "0" || args.first?.lowercased() == "permissive"))
                || (p == "ufw" && (args.contains("disable") || args.contains("reset")))
                || ((p == "iptables" || p == "ip6tables") && (f.contains("-F") || f.contains("--flush") || f.contains("-X") || (f.contains("-P") && args.contains("ACCEPT"))))
                || (p == "nft" && args.contains("flush")) || (p == "firewall-cmd" && (args.contains("--panic-off") || args.contains(where: { $0.hasPrefix("--set-default-zone=trusted") }) || args.contains("--add-port") && args.contains(where: { $0.contains("0-65535") })))
                || p == "aa-disable" || p == "aa-complain" || (p == "auditctl" && (f.contains("-D") || args.contains("-e") && args.contains("0")))
                || (p == "apparmor_parser" && f.contains("-R")) || (p == "csrutil" && args.contains("disable")) || (p == "spctl" && args.contains("--master-disable"))
                || (p == "pfctl" && f.contains("-d")) || p == "Set-MpPreference"
            if disables { add(.disableSecurity, [Target(.systemService, p)]) }
            else if !(f.contains("-L") || f.contains("-S") || args.contains("status") || args.contains("list")) { add(.overwrite, [Target(.system, "firewall rules")], ["firewall"]) }
        case "history":
            if f.contains("-c") || f.contains("-w") && false { add(.disableSecurity, [Target(.system, "shell history")], ["cover-tracks"]) }
        case "unset", "export" where args.contains(where: { $0.hasPrefix("HISTFILE") }):
            add(.disableSecurity, [Target(.system, "shell history")], ["cover-tracks"])
        case "crontab":
            if f.contains("-r") { add(.delete, [Target(.startup, "the user's crontab")]) }
            else if !f.contains("-l") { add(.persistence, [Target(.startup, "crontab")], ["scheduled"]); if let body = c.stdin ?? feeder?.text { out += payloadEffects(body, base: base) } }
        case "at", "batch":
            add(.persistence, [Target(.startup, "an at job")], ["scheduled"])
        case "curl", "wget", "http", "https", "xh", "aria2c", "fetch", "lwp-request", "httpie", "curlie":
            out += httpEffects(c, feeder: feeder, feederSecret: feederSecret, feederData: feederData, base: base)
        case "nc", "ncat", "netcat", "socat", "telnet", "openssl" where p != "openssl" || args.contains("s_client"):
            let hosts = Self.operands(args, withValue: ["-p", "-e", "-c", "-w", "-s", "-q", "-i", "-x", "-X", "--exec", "--sh-exec", "-connect"])
                .filter { Int($0) == nil && !$0.hasPrefix("/") }
            let host = hosts.first.map { Target.host($0.replacingOccurrences(of: "TCP:", with: "").replacingOccurrences(of: "tcp:", with: "")) } ?? Target(.externalHost, "a remote port")
            var facts: Set<String> = []
            if f.contains("-e") || f.contains("-c") || args.contains(where: { $0.contains("EXEC:") || $0.contains("exec:") }) || args.contains("--sh-exec") || args.contains("--exec") { facts.insert("shell-access") }
            if f.contains("-l") || f.contains("-L") { facts.insert("listen") }
            if feederData || c.redirects.contains(where: { $0.op == "<" }) { facts.insert("file-data") }
            if feederSecret || c.redirects.contains(where: { $0.op == "<" && path($0.target).kind == .secret }) { facts.insert("secret-data") }
            if facts.contains("shell-access") { add(.remoteCode, [host], facts) } else { add(.egress, [host], facts) }
        case "mail", "mailx", "mutt", "sendmail", "msmtp", "ssmtp", "swaks", "s-nail", "mpack":
            var facts: Set<String> = ["message"]
            let attachments = (Self.value(args, ["-a", "-A", "--attach"]).map { [$0] } ?? [])
            if !attachments.isEmpty { facts.insert("file-data") }
            if let r = c.repeats, r > 1 { facts.insert("bulk-message") }
            if feederSecret || attachments.contains(where: { path($0).kind == .secret }) || c.redirects.contains(where: { $0.op == "<" && path($0.target).kind == .secret }) { facts.insert("secret-data") }
            let recipients = Self.operands(args, withValue: ["-s", "-a", "-A", "-c", "-b", "-r", "-S", "--attach", "--subject"]).filter { $0.contains("@") }
            add(.egress, recipients.isEmpty ? [Target(.externalHost, "a mail recipient")] : recipients.map { Target(.externalHost, $0) }, facts.union(recipients.count > 5 ? ["bulk-message"] : []))
        case "nslookup", "dig", "host", "drill":
            let names = Self.operands(args, withValue: ["-t", "-p", "-c", "-q", "-type"])
            if c.unresolved && names.contains(where: { $0.contains("$") }) || feederSecret { add(.egress, names.map { Target.host($0) }, ["dns", "encoded-data"]) }
            else { add(.network, names.map { Target.host($0) }, ["dns"]) }
        case "ssh":
            let withArg: Set<String> = ["-p", "-i", "-l", "-o", "-F", "-J", "-L", "-R", "-D", "-b", "-c", "-E", "-e", "-m", "-O", "-S", "-W", "-w"]
            let host = Self.operands(args, withValue: withArg).first.map(Target.host) ?? Target(.externalHost, "a remote host")
            var facts: Set<String> = []
            if f.contains("-R") { facts.insert("reverse-tunnel") }
            if feederData { facts.insert("file-data") }
            if feederSecret { facts.insert("secret-data") }
            if facts.contains("file-data") || facts.contains("reverse-tunnel") { add(.egress, [host], facts) } else { add(.network, [host], facts) }
        case "ssh-keygen":
            break
        case "ssh-copy-id":
            add(.persistence, [Target(.startup, "authorized_keys on " + (Self.operands(args, withValue: ["-i", "-p", "-o"]).first ?? "a host"))], ["remote-access"])
        case "git":
            out += gitEffects(c, base: base)
        case "gh":
            if args.starts(with: ["repo", "delete"]) { add(.destroyRemote, [Target(.repository, Self.operands(args.dropFirst(2)).first ?? "the repository")], ["irreversible"]) }
            if args.starts(with: ["release", "delete"]) { add(.destroyRemote, [Target(.repository, "a release")]) }
        case "aws", "gcloud", "gsutil", "az", "doctl", "oci", "ibmcloud", "s3cmd", "rclone", "mc", "b2", "linode-cli", "heroku", "flyctl", "vercel", "netlify":
            out += cloudEffects(c, base: base)
        case "kubectl", "oc", "helm", "k9s", "kustomize", "eksctl", "kind", "minikube":
            out += kubeEffects(c, base: base)
        case "terraform", "tofu", "terragrunt", "pulumi", "cdk", "sam", "serverless", "sls", "ansible", "ansible-playbook", "cloudformation":
            out += iacEffects(c, base: base)
        case "psql", "mysql", "mariadb", "sqlite3", "sqlcmd", "mongo", "mongosh", "redis-cli", "cqlsh", "clickhouse-client", "duckdb", "cockroach", "influx":
            out += databaseEffects(c, feeder: feeder, base: base)
        case "dropdb", "mysqladmin", "mongorestore", "pg_restore":
            if p == "dropdb" || (p == "mysqladmin" && args.contains("drop")) || args.contains("--drop") || f.contains("-c") && p == "pg_restore" {
                add(.destroyRemote, [Target(.database, Self.operands(args).last ?? "a database")], ["drop"])
            }
        case "rails", "rake", "bundle", "manage.py", "django-admin", "alembic", "prisma", "sequelize", "knex", "typeorm", "flask", "php", "artisan",
             "npx", "yarn", "pnpm", "npm", "dotnet", "mix", "flyway", "liquibase", "diesel", "goose", "migrate", "dbmate", "atlas", "sqitch":
            out += migrationEffects(c, base: base)
        case "docker", "podman", "nerdctl", "ctr", "docker-compose":
            out += containerEffects(c, base: base)
        case "apt", "apt-get", "yum", "dnf", "zypper", "pacman", "apk", "brew", "snap", "dpkg", "rpm", "pip", "pip3", "pipx", "gem", "cargo", "go", "conda", "mamba", "uv":
            out += packageEffects(c, base: base)
        case "gpg", "openssl", "age", "ccrypt", "7z", "zip", "mcrypt", "encfs":
            let ops = Self.operands(args, withValue: ["--cipher-algo", "-o", "--output", "-r", "--recipient", "-pass", "-p", "-k", "-in", "-out", "-K", "-iv", "-md"])
            let encrypts = (p == "gpg" && (f.contains("-c") || f.contains("--symmetric") || f.contains("-e") || f.contains("--encrypt")))
                || (p == "openssl" && args.first == "enc" && !f.contains("-d")) || p == "ccrypt" || p == "mcrypt" || (p == "age" && !f.contains("-d"))
                || ((p == "7z" || p == "zip") && (args.contains(where: { $0.hasPrefix("-p") }) || f.contains("-e")))
            let targets = pathTargets(ops + [Self.value(args, ["-in"])].compactMap { $0 })
            if encrypts {
                var facts: Set<String> = ["encrypt"]
                if ops.contains(where: { $0.hasSuffix("*") }) || f.contains("-r") || targets.contains(where: { $0.kind == .homeRoot }) { facts.insert("bulk") }
                if targets.contains(where: { [.home, .homeRoot, .system, .outside].contains($0.kind) }) { add(.overwrite, targets, facts) }
            } else if targets.contains(where: { $0.kind == .secret }) && !(p == "openssl" && args.first == "x509") {
                add(.readSecret, targets.filter { $0.kind == .secret })
            }
        case "tar", "unzip", "gunzip", "bsdtar":
            let dest = Self.value(args, ["-C", "--directory", "-d"])
            if let dest, [.root, .system, .startup].contains(path(dest).kind), (f.contains("-x") || args.first?.contains("x") == true || p == "unzip") {
                add(.overwrite, [path(dest)], ["extract"])
            }
            let ops = Self.operands(args, withValue: ["-C", "--directory", "-d", "-f", "--exclude"])
            if ops.contains(where: { path($0).kind == .secret }) { add(.readSecret, ops.map(path).filter { $0.kind == .secret }) }
        case "stress", "stress-ng", "fio", "memtester", "ab", "hping3", "siege", "wrk", "slowhttptest", "yes" where p != "yes" || !c.redirects.isEmpty:
            let t: Target = p == "ab" || p == "siege" || p == "wrk" || p == "hping3" || p == "slowhttptest" ? Self.operands(args).last.map(Target.host) ?? Target(.externalHost, "a server") : Target(.system, "the machine's resources")
            if t.kind != .localHost { add(.exhaustion, [t], p == "hping3" || p == "slowhttptest" ? ["flood"] : []) }
        case "sleep":
            if let prefix = c.prefixes.first(where: { $0.hasPrefix("flock ") }), let secs = args.first.map(Self.seconds), secs >= 600 {
                add(.exhaustion, [path(String(prefix.dropFirst(6)))], ["holds-lock"])
            }
        case "touch", "mkdir":
            let ops = Self.operands(args, withValue: ["-m", "-d", "-t", "-r"])
            if let r = c.repeats, r >= 10_000 { add(.exhaustion, pathTargets(ops), ["looped", "inodes"]) }
            else { add(.write, pathTargets(ops)) }
        case "cat", "less", "more", "head", "tail", "tac", "nl", "od", "xxd", "hexdump", "strings", "base64", "base32", "grep", "egrep", "fgrep", "rg",
             "ag", "awk", "cut", "sort", "uniq", "wc", "diff", "jq", "yq", "bat", "vim", "vi", "nano", "view", "zcat", "sed", "source", "look":
            let ops = Self.operands(args, withValue: ["-n", "-c", "-e", "-f", "-m", "-A", "-B", "-C", "-d", "-k", "-t", "-F", "--max-count"])
            var files = ops
            if ["grep", "egrep", "fgrep", "rg", "ag", "awk", "sed", "look"].contains(p), !args.contains("-e"), !args.contains("-f"), !files.isEmpty { files.removeFirst() }
            let targets = pathTargets(files)
            if targets.contains(where: { $0.kind == .secret }) { add(.readSecret, targets.filter { $0.kind == .secret }) }
            let whole = ["cat", "tac", "base64", "base32", "xxd", "od", "hexdump", "strings", "less", "more", "bat", "zcat"].contains(p)
            if targets.contains(where: { $0.kind == .accounts }), whole { add(.read, targets.filter { $0.kind == .accounts }, ["whole-file"]) }
            if targets.contains(where: { $0.kind == .device }) { add(.readSecret, targets.filter { $0.kind == .device }, ["raw-disk"]) }
            if out.isEmpty || !targets.contains(where: { $0.kind == .secret }) { add(.read, targets) }
        case "env", "printenv", "set", "declare", "export":
            if args.isEmpty || (p == "export" && f.contains("-p")) { add(.readSecret, [Target(.secret, "the environment variables")], ["environment"]) }
        case "security":
            if args.first == "find-generic-password" || args.first == "find-internet-password" || args.first == "dump-keychain" { add(.readSecret, [Target(.secret, "the keychain")]) }
        case "alias":
            if let def = args.first, let eq = def.firstIndex(of: "=") {
                let name = String(def[..<eq])
                let body = String(def[def.index(after: eq)...])
                var inner = context
                let innerEffects = EffectDeriver(context: context).effects(ShellParser.parse(body, context: &inner))
                if ["sudo", "cd", "ls", "cat", "git", "ssh", "su", "rm", "cp", "mv", "vim", "python", "python3"].contains(name), innerEffects.contains(where: { Self.harmful($0) }) {
                    add(.persistence, [Target(.startup, "the alias \(name)")], ["trap"])
                }
            }
        case "at.deny", "usermod.":
            break
        case "mount", "umount":
            if p == "umount" && !args.isEmpty { add(.stopService, [Target(.system, args.last!)], ["unmount"]) }
            if p == "mount", args.contains(where: { $0.contains("remount") }) && args.contains(where: { $0.contains("rw") }) { add(.permission, [Target(.system, args.last ?? "/")], ["remount"]) }
        case "nsenter", "unshare", "capsh", "pkexec", "chroot":
            if p == "nsenter" && (f.contains("-t") || args.contains("--target")) { add(.privilege, [Target(.systemProcess, "the host's namespaces")], ["escape"]) }
            if p == "pkexec" { add(.privilege, [Target(.account, "root")]) }
        case "insmod.", "echo", "printf", ":", "true":
            break
        case "python", "python3", "python2" where args.first.map { $0.hasSuffix("manage.py") } == true:
            var inner = c
            inner.words = Array(c.words.dropFirst())
            out += migrationEffects(inner, base: base)
        case "sudo", "su", "doas":
            // A wrapper left with nothing to run opens a root shell.
            if args.isEmpty || args.allSatisfy({ $0.hasPrefix("-") }) || (p == "su" && args.allSatisfy { $0 == "-" || $0 == "root" || $0.hasPrefix("-") }) {
                add(.privilege, [Target(.account, "root")], ["root-shell"])
            }
        case "xmrig", "minerd", "cpuminer", "ethminer", "t-rex", "nbminer", "cgminer":
            add(.exhaustion, [Target(.system, "the machine's CPU")], ["miner"])
        case "nmap", "masscan", "zmap", "nikto", "sqlmap", "hydra", "medusa", "john", "hashcat", "msfconsole", "msfvenom", "responder", "mimikatz", "crackmapexec", "gobuster":
            let hosts = Self.operands(args, withValue: ["-p", "-o", "-oN", "-oX", "-w", "-u", "-P", "-l", "-L", "-t", "--rate"])
            let t = hosts.first.map(Target.host) ?? Target(.externalHost, "a network")
            if t.kind != .localHost || ["hydra", "medusa", "john", "hashcat", "mimikatz"].contains(p) { add(.network, [t], ["attack-tool"]) }
        default:
            break
        }
        // Downloads straight into a shell or interpreter.
        if feederFetches, ["bash", "sh", "zsh", "dash", "ksh", "python", "python3", "perl", "ruby", "node", "php", "source", "."].contains(p) || (feederFetches && c.language != "sh") {
            add(.remoteCode, feeder.flatMap { fe in Self.urls(fe.arguments).first.map(Target.host) }.map { [$0] } ?? [Target(.externalHost, "a remote server")], ["piped-to-shell"])
        }
        if ["bash", "sh", "zsh", "source", ".", "python", "python3", "perl", "ruby", "node"].contains(p), args.contains(where: { $0 == "/dev/fd/63" }) {
            add(.remoteCode, [Target(.externalHost, "a remote server")], ["process-substitution"])
        }
        // A program downloaded earlier in the same action and run.
        if c.words.first.map({ $0.contains("/") || $0.hasPrefix(".") }) == true, index > 0 {
            let me = path(c.words[0]).name
            if all[..<index].contains(where: { prev in ["curl", "wget"].contains(prev.program) && (prev.arguments.contains(me) || prev.redirects.contains { $0.target == me }) }) {
                add(.remoteCode, [Target(.externalHost, "a downloaded program")], ["downloaded-then-run"])
            }
        }
        if args.contains(where: { $0.contains("stratum+tcp://") || $0.contains("stratum+ssl://") || $0.contains("stratum2+") }) {
            add(.exhaustion, [Target(.system, "the machine's CPU")], ["miner"])
        }
        // Emptying, removing or redirecting a shell history hides what was done.
        let historyFiles = [".bash_history", ".zsh_history", ".history", ".python_history", ".mysql_history", ".psql_history", ".lesshst", "wtmp", "btmp", "lastlog", "auth.log", "secure"]
        out = out.map { e in
            guard [.overwrite, .delete, .move, .write].contains(e.operation),
                  e.targets.contains(where: { t in historyFiles.contains { t.name.hasSuffix("/" + $0) || t.name == $0 } }) else { return e }
            var x = e
            x.operation = .disableSecurity
            x.facts.insert("cover-tracks")
            return x
        }
        // Starting background jobs in an endless loop exhausts the process table.
        if c.repeats == Int.max && c.background { add(.exhaustion, [Target(.systemProcess, "the process table")], ["unbounded", "spawns"]) }
        if out.isEmpty {
            add(Self.inspectors.contains(p) ? .inspect : .run, [])
        }
        return out
    }

    static func harmful(_ e: Effect) -> Bool {
        switch e.operation {
        case .delete, .overwrite: return e.targets.contains { $0.reach >= 4 }
        case .egress, .remoteCode, .persistence, .exhaustion, .disableSecurity, .destroyRemote, .account, .privilege, .readSecret: return true
        default: return false
        }
    }

    static func isRemoteSpec(_ s: String) -> Bool {
        guard let colon = s.firstIndex(of: ":"), colon != s.startIndex else { return false }
        let head = s[..<colon]
        return !head.contains("/") && !s.hasPrefix("./")
    }

    static func urls(_ args: ArraySlice<String>) -> [String] {
        args.filter { $0.contains("://") || (!$0.hasPrefix("-") && !$0.hasPrefix("@") && $0.contains(".") && !$0.hasPrefix("/") && $0.split(separator: "/").first.map { $0.contains(".") && !$0.hasSuffix(".json") && !$0.hasSuffix(".txt") } == true) }
    }

    static func bytes(_ s: String) -> Int {
        let digits = s.prefix { $0.isNumber }
        guard let n = Int(digits) else { return 0 }
        let unit = s.dropFirst(digits.count).lowercased()
        let m: Int = unit.hasPrefix("k") ? 1 << 10 : unit.hasPrefix("m") ? 1 << 20 : unit.hasPrefix("g") ? 1 << 30 : unit.hasPrefix("t") ? 1 << 40 : unit.hasPrefix("p") ? 1 << 50 : 1
        let (r, o) = n.multipliedReportingOverflow(by: m)
        return o ? Int.max : r
    }

    static func seconds(_ s: String) -> Int {
        let digits = s.prefix { $0.isNumber }
        guard let n = Int(digits) else { return s == "infinity" ? Int.max : 0 }
        switch s.dropFirst(digits.count) { case "m": return n * 60; case "h": return n * 3600; case "d": return n * 86400; default: return n }
    }

    /// Effects of text that will run later (a cron line, an alias, a unit's ExecStart).
    func payloadEffects(_ text: String, base: Set<String>) -> [Effect] {
        var ctx = context
        let parse = ShellParser.parse(cronCommand(text), context: &ctx)
        return EffectDeriver(context: ctx).effects(parse).filter(Self.harmful).map { var e = $0; e.facts.formUnion(base.union(["scheduled"])); return e }
    }

    /// A crontab line's command (five time fields, and a user in /etc/crontab, removed).
    func cronCommand(_ line: String) -> String {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        if fields.count > 5, fields.prefix(5).allSatisfy({ $0.allSatisfy { "0123456789*/,-".contains($0) } }) {
            var rest = fields.dropFirst(5)
            if let u = rest.first, ["root", "nobody"].contains(u) || (rest.count > 1 && u.allSatisfy { $0.isLetter } && !Self.inspectors.contains(String(u)) && !["rm", "curl", "wget", "bash", "sh", "python", "python3"].contains(String(u))) { rest = rest.dropFirst() }
            return rest.joined(separator: " ")
        }
        if line.hasPrefix("@") { return fields.dropFirst().joined(separator: " ") }
        if let r = line.range(of: "ExecStart=") { return String(line[r.upperBound...].prefix { $0 != "\n" }) }
        if line.hasPrefix("alias ") { return line }
        return line
    }
}
