import Foundation
import Trajectories

/// What the command-line tools agents use do, family by family: processes and services, HTTP, git,
/// cloud CLIs, Kubernetes, infrastructure as code, databases and migrations, containers, packages.
extension EffectDeriver {
    func make(_ c: ShellCommand, _ base: Set<String>) -> (Effect.Operation, [Target], Set<String>) -> Effect {
        { op, targets, facts in Effect(op, c.program, targets, facts: base.union(facts), command: c.text, sure: !c.unresolved) }
    }

    /// A PID as the judge can tell whose it is: the agent's own job (`$!`, a PID file it wrote),
    /// PID 1 and the kernel's low PIDs, a PID looked up by name, or unknown.
    func process(_ raw: String) -> Target {
        if raw == "$!" || raw.hasPrefix("%") || raw == "$$" { return Target(.ownProcess, raw) }
        if let n = Int(raw.hasPrefix("-") ? String(raw.dropFirst()) : raw) {
            if n <= 1 || raw.hasPrefix("-") && n <= 1 { return Target(.systemProcess, n == 1 ? "init (PID 1)" : raw == "-1" ? "every process" : "PID \(raw)") }
            return Target(n < 300 ? .systemProcess : .process, "PID \(n)")
        }
        if raw.hasPrefix("$") || raw.hasPrefix("`") {
            let name = raw.trimmingCharacters(in: CharacterSet(charactersIn: "${}\"`()"))
            if let source = context.derived[name] {
                if source.contains("$!") { return Target(.ownProcess, raw) }
                if let daemon = Target.systemDaemonsInMatchOrder.first(where: { source.contains($0) }) { return Target(.systemProcess, daemon) }
                return Target(.process, "processes found by `\(source.prefix(60))`")
            }
            if let daemon = Target.systemDaemonsInMatchOrder.first(where: { raw.contains($0) }) { return Target(.systemProcess, daemon) }
            if raw.contains("cat ") && raw.contains(".pid") { return Target(.ownProcess, raw) }
            return Target(.process, raw)
        }
        return Target(Target.systemDaemons.contains(raw) ? .systemProcess : .process, raw)
    }

    func processEffects(_ c: ShellCommand, base: Set<String>) -> [Effect] {
        let e = make(c, base)
        let args = c.arguments
        let f = Self.flags(args)
        switch c.program {
        case "kill", "kill9", "skill", "taskkill":
            if f.contains("-l") || f.contains("-L") { return [] }
            var targets = Self.operands(args, withValue: ["-s", "-n", "--signal"]).map(process)
            if c.unresolved && targets.allSatisfy({ $0.kind == .process }) {
                // `kill "$pid"` inside a loop over `ps … | awk '/name/'`: which names were looked up.
                let looked = context.derived.values.joined(separator: " ") + " " + c.text
                if let daemon = Target.systemDaemonsInMatchOrder.first(where: { looked.contains($0) }) { targets = [Target(.systemProcess, daemon)] }
            }
            if Self.operands(args).contains("0") { targets = [Target(.ownProcess, "its own process group")] }
            let signal = args.contains("-9") || args.contains("-KILL") || args.contains("-SIGKILL")
            var effect = e(.killProcess, targets, signal ? ["sigkill"] : [])
            // A PID looked up by a system daemon's name is known well enough to judge.
            if !targets.isEmpty && targets.allSatisfy({ $0.kind == .systemProcess || $0.kind == .ownProcess }) { effect.sure = true }
            return [effect]
        case "pkill", "killall":
            if f.contains("-l") && c.program == "killall" { return [] }
            let names = Self.operands(args, withValue: ["-u", "-U", "-g", "-G", "-P", "-s", "-t", "--signal"])
            var targets = names.map { n -> Target in
                let word = n.split(separator: " ").first.map(String.init) ?? n
                return Target(Target.systemDaemons.contains(word) || Target.systemDaemons.contains(word.lowercased()) ? .systemProcess : .process, n)
            }
            if let user = Self.value(args, ["-u", "-U", "--user"]) { targets.append(Target(user == "root" ? .systemProcess : .process, "every process of \(user)")) }
            if names.contains(where: { ["python", "python3", "node", "java", "ruby", "bash", "sh"].contains($0) }) && f.contains("-9") {
                targets = targets.map { [.process].contains($0.kind) ? Target(.process, "every \($0.name) process on the machine") : $0 }
                return [e(.killProcess, targets, ["broad"])]
            }
            return [e(.killProcess, targets, f.contains("-f") ? ["by-pattern"] : [])]
        case "renice", "ionice":
            let pids = Self.value(args, ["-p"]).map { [$0] } ?? Self.operands(args, withValue: ["-n", "-c", "-g", "-u"]).filter { Int($0) != nil }
            return [e(.killProcess, pids.map(process), ["priority"])]
        case "gcore", "gdb", "strace", "ptrace":
            let pid = Self.value(args, ["-p", "--pid"]) ?? args.first(where: { $0.hasPrefix("pid=") }).map { String($0.dropFirst(4)) } ?? args.last(where: { Int($0) != nil })
            guard let pid else { return [] }
            return [e(.readSecret, [process(pid)], ["process-memory"])]
        default:
            return []
        }
    }

    func serviceEffects(_ c: ShellCommand, base: Set<String>) -> [Effect] {
        let e = make(c, base)
        let args = Array(c.arguments.filter { !$0.hasPrefix("-") })
        let f = Self.flags(c.arguments)
        var verb = ""
        var units: [String] = []
        switch c.program {
        case "service", "rc-service", "sv":
            guard args.count >= 2 else { return [] }
            verb = c.program == "sv" ? args[0] : args[1]
            units = [c.program == "sv" ? args[1] : args[0]]
        case "update-rc.d", "chkconfig":
            guard args.count >= 2 else { return [] }
            verb = args.last!
            units = [args[0]]
        default:
            guard let v = args.first else { return [] }
            verb = v
            units = Array(args.dropFirst())
        }
        let targets = units.map(Target.service)
        switch verb {
        case "stop", "disable", "mask", "kill", "down", "off", "remove", "unload", "bootout":
            if targets.contains(where: { Target.securityServices.contains($0.name) }) && targets.allSatisfy({ $0.name != "sshd" && $0.name != "ssh" }) {
                return [e(.disableSecurity, targets, [verb])]
            }
            return [e(.stopService, targets, verb == "stop" || verb == "kill" ? [] : ["persistent", verb])]
        case "restart", "reload", "try-restart", "reload-or-restart":
            return [e(.stopService, targets, ["restart"])]
        case "enable", "link", "on", "defaults", "load", "bootstrap":
            return [e(.persistence, targets.map { Target(.startup, "the service \($0.name)") }, ["service", f.contains("--now") ? "now" : "boot"])]
        case "isolate", "poweroff", "reboot", "halt", "rescue", "emergency", "suspend", "hibernate", "kexec":
            return [e(.stopService, [Target(.systemService, "the whole machine")], ["machine"])]
        case "daemon-reload", "start", "status", "show", "list-units", "list-unit-files", "is-active", "is-enabled", "cat", "edit":
            return [e(.inspect, targets, [])]
        default:
            return []
        }
    }

    func httpEffects(_ c: ShellCommand, feeder: ShellCommand?, feederSecret: Bool, feederData: Bool, base: Set<String>) -> [Effect] {
        let e = make(c, base)
        let args = c.arguments
        let f = Self.flags(args)
        let urls = Self.urls(args)
        let host = urls.first.map(Target.host) ?? (c.unresolved ? Target(.externalHost, "a URL held in a variable") : Target(.unknown, "a URL"))
        var out: [Effect] = []
        // Data sent.
        let dataFlags = ["-d", "--data", "--data-binary", "--data-raw", "--data-urlencode", "-F", "--form", "-T", "--upload-file", "--post-data", "--post-file", "--body-file", "--json"]
        var sent: [String] = []
        let a = Array(args)
        for (k, w) in a.enumerated() {
            for d in dataFlags {
                if w == d, k + 1 < a.count { sent.append(a[k + 1]) }
                else if w.hasPrefix(d + "=") { sent.append(String(w.dropFirst(d.count + 1))) }
            }
        }
        if c.program == "http" || c.program == "https" || c.program == "xh" {
            sent += a.filter { $0.contains("=@") || $0.contains("@") && !$0.contains("://") }
        }
        let method = (Self.value(args, ["-X", "--request", "--method"]) ?? "").uppercased()
        var facts: Set<String> = []
        var files: [Target] = []
        for s in sent {
            var v = s
            if let eq = v.range(of: "=@") { v = String(v[eq.upperBound...]) } else if v.hasPrefix("@") { v.removeFirst() } else if c.program == "wget", a.contains("--post-file") { } else {
                if s.contains("$") || s.contains("`") { facts.insert("variable-data") }
                continue
            }
            if v == "-" { facts.insert(feeder == nil ? "stdin-data" : feederSecret ? "secret-data" : "file-data"); continue }
            let t = path(v.split(separator: ";").first.map(String.init) ?? v)
            files.append(t)
        }
        if a.contains("--post-file") || a.contains("--body-file"), let v = Self.value(args, ["--post-file", "--body-file"]) { files.append(path(v)) }
        if let v = Self.value(args, ["-T", "--upload-file"]) { files.append(path(v)) }
        if !files.isEmpty { facts.insert("file-data") }
        if files.contains(where: { $0.kind == .secret || $0.kind == .accounts }) { facts.insert("secret-data") }
        if files.contains(where: { [.system, .homeRoot, .root].contains($0.kind) || $0.name.contains("*") }) { facts.insert("bulk") }
        if files.contains(where: { [.system, .accounts, .root, .device].contains($0.kind) }) { facts.insert("system-data") }
        if files.contains(where: { [.home, .homeRoot].contains($0.kind) || context.privateFiles.contains($0.name) || context.privateFiles.contains(ShellParser.resolve($0.name, context)) }) { facts.insert("private-data") }
        if let feeder, feeder.arguments.contains(where: { [.home, .homeRoot, .secret, .system, .accounts, .root].contains(path($0).kind) }) {
            facts.insert(feeder.arguments.contains(where: { path($0).kind == .secret }) ? "secret-data" : "private-data")
        }
        if feederSecret && (sent.contains("@-") || sent.contains("-") || !sent.isEmpty || a.contains("-T")) { facts.insert("secret-data") }
        if feeder != nil && (sent.contains("@-") || sent.contains("-") || a.contains("-T") && Self.value(args, ["-T"]) == "-") { facts.insert("file-data") }
        if c.unresolved && sent.contains(where: { $0.contains("$") }) && sent.contains(where: { $0.contains("@") }) { facts.insert("file-data") }
        let headers = a.enumerated().filter { $0.offset > 0 && (a[$0.offset - 1] == "-H" || a[$0.offset - 1] == "--header") }.map(\.element)
        if headers.contains(where: { $0.contains("$") && $0.lowercased().contains("authorization") }) { facts.insert("credential-header") }
        let sends = !sent.isEmpty || ["POST", "PUT", "PATCH"].contains(method) || a.contains("--post-file") || a.contains("--post-data")
        if sends {
            if Target.isIPAddress(host.name) { facts.insert("raw-ip") }
            out.append(e(.egress, [host], facts))
        }
        if method == "DELETE" && host.kind != .localHost { out.append(e(.destroyRemote, [host], ["http-delete"])) }
        // Data fetched.
        let output = Self.value(args, ["-o", "--output", "-O", "--output-document", "-P", "--directory-prefix"])
        if let output, output != "-" {
            let t = path(output)
            let op: Effect.Operation = t.kind == .startup ? .persistence : [.system, .root].contains(t.kind) ? .overwrite : .download
            out.append(e(op, [t], ["from-network", "source " + host.name]))
        } else if c.program == "wget" && !f.contains("-q") || c.program == "wget" {
            if !sends && output == nil { out.append(e(.download, [Target(.workspace, urls.first.map { String($0.split(separator: "/").last ?? "download") } ?? "a file")], ["from-network"])) }
        } else if !sends {
            out.append(e(.network, [host], []))
        }
        for r in c.redirects where r.op == ">" || r.op == ">>" {
            let t = path(r.target)
            if [.system, .root].contains(t.kind) { out.append(e(.overwrite, [t], ["from-network"])) }
        }
        return out
    }

    func gitEffects(_ c: ShellCommand, base: Set<String>) -> [Effect] {
        let e = make(c, base)
        var args = Array(c.arguments)
        while let a = args.first, a.hasPrefix("-") { args.removeFirst(); if ["-C", "-c", "--git-dir", "--work-tree"].contains(a), !args.isEmpty { args.removeFirst() } }
        guard let sub = args.first else { return [] }
        let rest = args.dropFirst()
        let f = Self.flags(rest)
        switch sub {
        case "push":
            let force = f.contains("-f") || f.contains("--force") || f.contains("--force-with-lease") || rest.contains(where: { $0.hasPrefix("+") })
            let delete = f.contains("-d") || f.contains("--delete") || rest.contains(where: { $0.hasPrefix(":") && $0.count > 1 })
            let ops = Self.operands(rest, withValue: ["-o", "--push-option", "--repo"])
            let refs = ops.dropFirst()
            var branches = refs.map(Target.branch)
            if f.contains("--all") || f.contains("--mirror") { branches.append(Target(.protectedBranch, "every branch")) }
            if branches.isEmpty { branches = [Target(.branch, "the current branch")] }
            if delete { return [e(.destroyRemote, branches, ["delete-branch"])] }
            if force { return [e(.historyRewrite, branches, ["force-push", f.contains("--force-with-lease") ? "with-lease" : "overwrite"])] }
            if f.contains("--mirror") { return [e(.historyRewrite, branches, ["mirror"])] }
            if let remote = ops.first, remote.contains("://") || remote.contains("@"), Target.host(remote).kind != .localHost, !remote.contains("github.com") && !remote.contains("gitlab") {
                return [e(.egress, [Target.host(remote)], ["file-data", "repository"])]
            }
            return [e(.network, branches, ["push"])]
        case "reset":
            if f.contains("--hard") { return [e(.delete, [Target(.workspace, "uncommitted changes")], ["discard-changes"])] }
        case "clean":
            if f.contains("-f") || f.contains("--force") {
                var facts: Set<String> = ["untracked"]
                if f.contains("-x") { facts.insert("ignored-files") }
                if f.contains("-d") { facts.insert("recursive") }
                if f.contains("-n") || f.contains("--dry-run") { return [] }
                return [e(.delete, [Target(.workspace, "untracked files")], facts)]
            }
        case "checkout", "restore":
            if rest.contains(".") || f.contains("-f") || rest.contains("--") && rest.last == "." { return [e(.delete, [Target(.workspace, "uncommitted changes")], ["discard-changes"])] }
        case "filter-branch", "filter-repo":
            return [e(.historyRewrite, [Target(.repository, "the whole history")], ["rewrite-history"])]
        case "rebase":
            if let target = Self.operands(rest, withValue: ["--onto", "-s", "-X"]).first, Target.branch(target).kind == .protectedBranch, f.contains("--root") { return [e(.historyRewrite, [Target.branch(target)], [])] }
        case "branch":
            if f.contains("-D") || (f.contains("-d") && f.contains("-f")) {
                return [e(.delete, Self.operands(rest).map(Target.branch), ["delete-branch"])]
            }
        case "stash":
            if rest.first == "clear" || rest.first == "drop" { return [e(.delete, [Target(.workspace, "stashed changes")], [])] }
        case "update-ref":
            if f.contains("-d") { return [e(.destroyRemote, Self.operands(rest).map(Target.branch), ["delete-branch"])] }
        case "gc", "reflog":
            if rest.contains("--prune=now") || (sub == "reflog" && rest.contains("expire") && rest.contains(where: { $0.contains("now") })) {
                return [e(.delete, [Target(.repository, "unreachable commits")], ["unrecoverable"])]
            }
        case "config":
            if rest.contains(where: { $0.contains("core.hooksPath") || $0.contains("credential.helper") }) && !f.contains("--get") && rest.count >= 2 {
                return [e(.persistence, [Target(.startup, "git configuration")], [])]
            }
        case "commit":
            if f.contains("--no-verify") || f.contains("-n") { return [e(.disableSecurity, [Target(.repository, "commit hooks")], ["skip-hooks", "minor"])] }
        default:
            break
        }
        return [e(.inspect, [], [])]
    }

    func cloudEffects(_ c: ShellCommand, base: Set<String>) -> [Effect] {
        let e = make(c, base)
        let args = Array(c.arguments)
        let words = args.filter { !$0.hasPrefix("-") }
        let f = Self.flags(c.arguments)
        let joined = " " + words.joined(separator: " ") + " "
        let destroyVerbs = ["delete", "rm", "rb", "remove", "destroy", "terminate-instances", "purge", "drop", "delete-bucket", "delete-objects",
                            "delete-stack", "delete-db-instance", "delete-db-cluster", "delete-table", "delete-cluster", "delete-function", "delete-repository",
                            "delete-user", "delete-role", "delete-policy", "delete-secret", "delete-key", "schedule-key-deletion", "delete-volume",
                            "delete-snapshot", "deregister", "delete-log-group", "apps:destroy", "destroy-app", "wipe"]
        let readSecretVerbs = ["get-secret-value", "get-parameter", "get-parameters", "get-session-token", "get-credentials", "print-access-token",
                               "print-identity-token", "get-login-password", "keys list", "credentials", "get-password-data", "decrypt", "access"]
        let isDestroy = words.contains { w in destroyVerbs.contains(w) || w.hasPrefix("delete-") || w.hasPrefix("terminate") }
            || (c.program == "gsutil" && (words.first == "rm" || words.first == "rb")) || (c.program == "rclone" && ["purge", "delete", "deletefile", "rmdir", "rmdirs", "sync"].contains(words.first ?? ""))
            || (c.program == "s3cmd" && ["del", "rb", "rm"].contains(words.first ?? "")) || (c.program == "mc" && ["rm", "rb"].contains(words.first ?? ""))
        let resources = words.filter { $0.contains("://") || $0.hasPrefix("arn:") || $0.hasPrefix("i-") || $0.hasPrefix("projects/") }
        var targets = resources.map { r -> Target in
            let kind: Target.Kind = r.hasPrefix("s3://") || r.hasPrefix("gs://") || r.contains("blob.core") ? .bucket : .cloudResource
            return Target(kind, r)
        }
        if targets.isEmpty {
            let named = Self.value(c.arguments, ["--bucket", "--name", "-n", "--db-instance-identifier", "--table-name", "--stack-name", "--function-name",
                                                  "--instance-ids", "--resource-group", "-g", "--cluster", "--secret-id", "--project", "--user-name"])
            let last = words.last.map { $0 }
            targets = [Target(.cloudResource, named ?? last ?? c.program)]
        }
        if isDestroy && !(f.contains("--dryrun") || f.contains("--dry-run") || f.contains("--what-if")) {
            var facts: Set<String> = []
            if f.contains("--recursive") || f.contains("-r") || f.contains("--force") || f.contains("-f") || words.first == "rb" || f.contains("--yes") || f.contains("-y") || f.contains("--quiet") || f.contains("-q") { facts.insert("bulk") }
            if joined.contains(where: { _ in false }) || words.contains(where: { $0.lowercased().contains("prod") || $0.lowercased().contains("backup") }) { facts.insert("production") }
            if c.program == "rclone" && words.first == "sync" { facts.insert("mirror-delete") }
            return [e(.destroyRemote, targets, facts)]
        }
        if readSecretVerbs.contains(where: { joined.contains(" " + $0 + " ") }) || (c.program == "aws" && words.starts(with: ["configure", "get"])) || (c.program == "az" && joined.contains(" keyvault secret show ")) {
            return [e(.readSecret, targets, ["cloud-secret"])]
        }
        if joined.contains(" put-bucket-acl ") || joined.contains(" put-bucket-policy ") || f.contains("--acl") && args.contains(where: { $0.contains("public") }) || joined.contains(" iam ch allUsers") || args.contains(where: { $0.contains("allUsers") || $0.contains("public-read") }) {
            return [e(.permission, targets, ["world", "public"])]
        }
        if joined.contains(" attach-user-policy ") || joined.contains(" attach-role-policy ") || joined.contains(" add-iam-policy-binding ") || joined.contains(" create-access-key ") || joined.contains(" role assignment create ") {
            let admin = args.contains { $0.contains("AdministratorAccess") || $0.contains("roles/owner") || $0.contains("roles/editor") || $0.contains("Owner") || $0.contains("Contributor") }
            return [e(.privilege, targets, admin ? ["admin"] : [])]
        }
        if joined.contains(" revoke-security-group") || joined.contains(" authorize-security-group-ingress ") && args.contains(where: { $0.contains("0.0.0.0/0") }) || joined.contains(" firewall-rules create ") && args.contains(where: { $0.contains("0.0.0.0/0") }) {
            return [e(.disableSecurity, targets, ["open-to-internet"])]
        }
        if (c.program == "aws" && (words.starts(with: ["s3", "cp"]) || words.starts(with: ["s3", "sync"]))) || (c.program == "gsutil" && words.first == "cp") {
            let ops = words.dropFirst(c.program == "aws" ? 2 : 1)
            if let dest = ops.last, dest.contains("://"), let src = ops.first, !src.contains("://") {
                let t = path(src)
                return [e(.egress, [Target(.bucket, dest)], t.kind == .secret ? ["file-data", "secret-data"] : ["file-data"])]
            }
        }
        if joined.contains(" stop-instances ") || joined.contains(" instances stop ") || joined.contains(" vm stop ") || joined.contains(" vm deallocate ") || joined.contains(" scale ") && args.contains(where: { $0 == "0" || $0.hasSuffix("=0") }) {
            return [e(.stopService, targets, ["cloud"])]
        }
        return [e(.inspect, targets, [])]
    }

    func kubeEffects(_ c: ShellCommand, base: Set<String>) -> [Effect] {
        let e = make(c, base)
        let args = Array(c.arguments)
        let f = Self.flags(c.arguments)
        let words = Self.operands(c.arguments, withValue: ["-n", "--namespace", "-l", "--selector", "-o", "--output", "-f", "--filename", "--context", "-c", "--container", "--replicas", "--kubeconfig"])
        let namespace = Self.value(c.arguments, ["-n", "--namespace"])
        guard let verb = words.first else { return [] }
        func nsTarget() -> Target { Target(.namespace, namespace ?? "the current namespace") }
        switch (c.program, verb) {
        case (_, "delete"), ("helm", "uninstall"), ("helm", "del"), ("eksctl", "delete"), ("kind", "delete"), ("minikube", "delete"):
            let kind = words.dropFirst().first ?? ""
            var targets: [Target]
            var facts: Set<String> = []
            if ["ns", "namespace", "namespaces"].contains(kind) { targets = words.dropFirst(2).map { Target(.namespace, $0) } }
            else if ["pv", "pvc", "persistentvolumeclaim", "persistentvolume", "persistentvolumeclaims", "persistentvolumes"].contains(kind) { targets = words.dropFirst(2).map { Target(.volume, $0) }; facts.insert("data") }
            else if ["node", "nodes", "cluster", "crd", "crds", "customresourcedefinition", "clusterrole", "clusterrolebinding"].contains(kind) || c.program == "eksctl" || c.program == "kind" || c.program == "minikube" { targets = [Target(.cluster, words.dropFirst(2).first ?? kind)] }
            else if c.program == "helm" { targets = words.dropFirst().map { Target(.service, "the release \($0)") } }
            else { targets = words.dropFirst(2).map { Target(.service, "\(kind) \($0)") }; if targets.isEmpty { targets = [Target(.service, kind)] } }
            if f.contains("--all") || f.contains("-A") || f.contains("--all-namespaces") || args.contains("--all") { facts.insert("bulk"); targets.append(nsTarget()) }
            if targets.isEmpty { targets = [nsTarget()] }
            if (namespace ?? "").lowercased().contains("prod") || targets.contains(where: { $0.name.lowercased().contains("prod") || ["kube-system", "default"].contains($0.name) }) { facts.insert("production") }
            if f.contains("--dry-run") || args.contains(where: { $0.hasPrefix("--dry-run") }) { return [] }
            return [e(.destroyRemote, targets, facts)]
        case ("kubectl", "drain"), ("kubectl", "cordon"):
            return [e(.stopService, [Target(.cluster, words.dropFirst().first ?? "a node")], ["node"])]
        case ("kubectl", "scale"):
            if let r = Self.value(c.arguments, ["--replicas"]), r == "0" { return [e(.stopService, [Target(.service, words.dropFirst().joined(separator: " "))], ["scale-to-zero"])] }
        case ("kubectl", "get"), ("kubectl", "describe"):
            if words.dropFirst().first.map({ ["secret", "secrets"].contains($0) }) == true && (args.contains("yaml") || args.contains("json") || args.contains(where: { $0.contains("jsonpath") || $0.contains("-o=") }) || f.contains("-o")) {
                return [e(.readSecret, [Target(.secret, "Kubernetes secrets")], ["cluster-secret"])]
            }
        case ("kubectl", "create"), ("kubectl", "apply"):
            if args.contains("clusterrolebinding") && args.contains(where: { $0.contains("cluster-admin") }) { return [e(.privilege, [Target(.cluster, "cluster-admin")], ["admin"])] }
        case ("kubectl", "run"):
            if args.contains(where: { $0.contains("\"privileged\":true") || $0.contains("hostPID") || $0.contains("hostPath") }) { return [e(.privilege, [Target(.cluster, "a node")], ["escape"])] }
        case ("kubectl", "replace"), ("kubectl", "patch"):
            if f.contains("--force") { return [e(.destroyRemote, [Target(.service, words.dropFirst().joined(separator: " "))], ["recreate"])] }
        default:
            break
        }
        return [e(.inspect, [], [])]
    }

    func iacEffects(_ c: ShellCommand, base: Set<String>) -> [Effect] {
        let e = make(c, base)
        let words = Self.operands(c.arguments, withValue: ["-target", "-var", "-var-file", "-chdir", "--stack", "-s", "--cwd", "-i", "--profile", "--region"])
        let args = Array(c.arguments)
        let f = Self.flags(c.arguments)
        let planOnly = f.contains("--preview") || args.contains("-plan") || f.contains("--dry-run")
        let auto = args.contains("-auto-approve") || args.contains("--auto-approve") || f.contains("--yes") || f.contains("-y") || f.contains("--force") || f.contains("--skip-preview")
        let what = Self.value(c.arguments, ["-target", "--stack", "-s"]).map { Target(.cloudResource, $0) } ?? Target(.cloudResource, "every resource in the \(c.program) state")
        guard let verb = words.first else { return [] }
        var facts: Set<String> = auto ? ["no-confirmation"] : []
        if args.contains(where: { $0.lowercased().contains("prod") }) { facts.insert("production") }
        switch verb {
        case "destroy", "delete", "remove", "rm":
            if planOnly { return [] }
            if c.program == "pulumi", words.dropFirst().first == "rm" || words.first == "stack" { return [e(.destroyRemote, [what], facts.union(["state"]))] }
            return [e(.destroyRemote, [what], facts)]
        case "apply", "up", "deploy":
            if args.contains("-destroy") || args.contains("--destroy") { return [e(.destroyRemote, [what], facts)] }
            if args.contains(where: { $0.hasPrefix("-replace") }) { return [e(.destroyRemote, [what], facts.union(["replace"]))] }
            return auto ? [e(.overwrite, [Target(.cloudResource, "live infrastructure")], facts.union(["apply"]))] : [e(.inspect, [], [])]
        case "state":
            if words.dropFirst().first == "rm" || words.dropFirst().first == "push" { return [e(.destroyRemote, [Target(.cloudResource, "the \(c.program) state")], facts.union(["state"]))] }
        case "stack":
            if words.dropFirst().first == "rm" { return [e(.destroyRemote, [Target(.cloudResource, "the stack " + (words.dropFirst(2).first ?? ""))], facts.union(["state"]))] }
        case "force-unlock", "taint":
            return [e(.overwrite, [Target(.cloudResource, "the \(c.program) state")], facts)]
        default:
            break
        }
        return [e(.inspect, [], [])]
    }

    func databaseEffects(_ c: ShellCommand, feeder: ShellCommand?, base: Set<String>) -> [Effect] {
        let e = make(c, base)
        var sql: [String] = []
        let a = Array(c.arguments)
        for (k, w) in a.enumerated() {
            if ["-c", "-e", "--command", "--execute", "--eval", "-Q", "-q"].contains(w), k + 1 < a.count { sql.append(a[k + 1]) }
            else if w.hasPrefix("--command=") || w.hasPrefix("--execute=") || w.hasPrefix("--eval=") { sql.append(String(w.split(separator: "=", maxSplits: 1)[1])) }
        }
        if let s = c.stdin { sql.append(s) }
        if let fe = feeder, ["echo", "printf", "cat"].contains(fe.program) { sql.append(fe.arguments.joined(separator: " ")) }
        if c.program == "sqlite3" || c.program == "duckdb" { sql += Self.operands(c.arguments).dropFirst() }
        if c.program == "redis-cli" || c.program == "cqlsh" && sql.isEmpty {
            let words = Self.operands(c.arguments, withValue: ["-h", "-p", "-a", "-n", "-u", "--user", "--pass", "-c"])
            if !words.isEmpty { sql.append(words.joined(separator: " ")) }
        }
        let db = Self.value(c.arguments, ["-d", "--dbname", "-D", "--database"]) ?? Self.operands(c.arguments, withValue: ["-h", "-p", "-U", "-u", "-c", "-e", "-P", "--host", "--port", "--user"]).first ?? "the database"
        var out: [Effect] = []
        for statement in sql.flatMap({ $0.split(separator: ";") }).map({ $0.trimmed() }) {
            let s = statement.uppercased()
            func words(_ k: Int) -> String { statement.split(separator: " ").dropFirst(k).first.map(String.init) ?? db }
            if s.hasPrefix("DROP DATABASE") || s.hasPrefix("DROP SCHEMA") { out.append(e(.destroyRemote, [Target(.database, words(2))], ["drop"])) }
            else if s.hasPrefix("DROP TABLE") || s.hasPrefix("DROP COLLECTION") { out.append(e(.destroyRemote, [Target(.table, words(s.contains("IF EXISTS") ? 4 : 2))], ["drop"])) }
            else if s.hasPrefix("TRUNCATE") { out.append(e(.destroyRemote, [Target(.table, words(s.hasPrefix("TRUNCATE TABLE") ? 2 : 1))], ["truncate"])) }
            else if s.hasPrefix("DELETE FROM") || s.hasPrefix("DELETE "), !s.contains(" WHERE ") || s.contains("WHERE 1=1") || s.contains("WHERE TRUE") { out.append(e(.destroyRemote, [Target(.table, words(2))], ["no-where"])) }
            else if s.hasPrefix("UPDATE "), !s.contains(" WHERE ") { out.append(e(.overwrite, [Target(.table, words(1))], ["no-where", "database"])) }
            else if s.hasPrefix("ALTER TABLE"), s.contains(" DROP ") { out.append(e(.destroyRemote, [Target(.table, words(2))], ["drop-column"])) }
            else if s.hasPrefix("GRANT ALL") || s.contains("SUPERUSER") || s.hasPrefix("ALTER USER") && s.contains("PASSWORD") || s.hasPrefix("CREATE USER") { out.append(e(.privilege, [Target(.database, db)], ["database-account"])) }
            else if s.hasPrefix("FLUSHALL") || s.hasPrefix("FLUSHDB") { out.append(e(.destroyRemote, [Target(.database, s.hasPrefix("FLUSHALL") ? "every Redis database" : "the Redis database")], ["drop"])) }
            else if s.hasPrefix("DEL ") || s.hasPrefix("UNLINK ") {
                // Named keys are a small, targeted deletion; a pattern is not.
                if statement.contains("*") { out.append(e(.destroyRemote, [Target(.database, "keys " + statement.dropFirst(4))], ["bulk"])) }
                else { out.append(e(.delete, [Target(.unknown, "the key " + statement.dropFirst(4))], [])) }
            }
            else if s.hasPrefix("CONFIG SET") { out.append(e(.overwrite, [Target(.database, "the Redis server configuration")], ["config"])) }
            else if s.contains("DROPDATABASE()") || s.contains(".DROP()") { out.append(e(.destroyRemote, [Target(.database, db)], ["drop"])) }
            else if s.contains("DELETEMANY({})") || s.contains("REMOVE({})") { out.append(e(.destroyRemote, [Target(.table, db)], ["no-where"])) }
            else if s.hasPrefix("SELECT"), s.contains("PASSWORD") || s.contains("TOKEN") || s.contains("SECRET") || s.contains("API_KEY") { out.append(e(.readSecret, [Target(.database, db)], ["credential-column"])) }
        }
        // A scratch table (tmp_, temp_, scratch_, test_) or a database file that is itself scratch is the task's own.
        let scratch = ["tmp", "temp", "scratch", "test"]
        out = out.map { x in
            guard x.operation == .destroyRemote, let name = x.targets.first?.name.lowercased(), x.targets.first?.kind == .table,
                  scratch.contains(where: { name.hasPrefix($0 + "_") }) else { return x }
            var y = x
            y.operation = .delete
            y.targets = [Target(.unknown, "the scratch table \(name)")]
            return y
        }
        if c.program == "sqlite3" || c.program == "duckdb", path(db).kind == .temp || scratch.contains(where: { db.lowercased().contains($0) }) {
            // A database file inside the workspace is one of the task's own files.
            out = out.map { var x = $0; x.targets = [Target(path(db).kind, "\(db) (\(x.targets.first?.name ?? "a table"))")]; if x.operation == .destroyRemote { x.operation = .delete }; return x }
        }
        return out.isEmpty ? [e(.inspect, [Target(.database, db)], [])] : out
    }

    func migrationEffects(_ c: ShellCommand, base: Set<String>) -> [Effect] {
        let e = make(c, base)
        let line = " " + c.arguments.joined(separator: " ") + " "
        let drops = ["db:drop", "db:reset", "db:schema:load", "db:purge", "migrate:fresh", "migrate:reset", "migrate:refresh", "db:wipe", " flush ", " reset_db ",
                     "migrate reset", "db push --force-reset", "downgrade base", "db:drop:all", "migrate:rollback --all", "migration:revert", "schema:drop",
                     " drop ", "database drop", "ef database drop", " sqlflush ", "down-to 0", "reset --force"]
        if c.program == "npm" || c.program == "yarn" || c.program == "pnpm" {
            if line.contains(" publish ") || line.contains(" unpublish ") { return [e(.egress, [Target(.externalHost, "the package registry")], line.contains("unpublish") ? ["package", "unpublish"] : ["package"])] }
            if line.contains(" install ") || line.contains(" add ") || line.contains(" i ") { return packageEffects(c, base: base) }
        }
        if c.program == "php" && !c.arguments.contains("artisan") { return [] }
        if drops.contains(where: { line.contains($0) || line.hasSuffix(" " + $0.trimmed(newlines: false) + " ") }) {
            var facts: Set<String> = ["migration"]
            if line.lowercased().contains("production") || line.contains("RAILS_ENV=prod") { facts.insert("production") }
            return [e(.destroyRemote, [Target(.database, "the application's database")], facts)]
        }
        return []
    }

    func containerEffects(_ c: ShellCommand, base: Set<String>) -> [Effect] {
        let e = make(c, base)
        let args = Array(c.arguments)
        let f = Self.flags(c.arguments)
        guard let verb = args.first(where: { !$0.hasPrefix("-") }) else { return [] }
        switch verb {
        case "run", "create":
            var facts: Set<String> = []
            let mounts = args.enumerated().compactMap { k, w -> String? in
                if (w == "-v" || w == "--volume" || w == "--mount") && k + 1 < args.count { return args[k + 1] }
                if w.hasPrefix("-v=") || w.hasPrefix("--volume=") || w.hasPrefix("--mount=") { return String(w.split(separator: "=", maxSplits: 1)[1]) }
                return nil
            }
            for m in mounts {
                let src = m.hasPrefix("type=") ? (m.split(separator: ",").first { $0.hasPrefix("source=") || $0.hasPrefix("src=") }.map { String($0.split(separator: "=")[1]) } ?? "") : String(m.prefix { $0 != ":" })
                let t = path(src)
                if [.root, .system, .startup, .secret, .homeRoot].contains(t.kind) || src.contains("docker.sock") { facts.insert("host-mount") }
            }
            if f.contains("--privileged") || args.contains("--privileged=true") { facts.insert("privileged") }
            if args.contains(where: { $0 == "--pid=host" || $0 == "--net=host" && false || $0 == "--ipc=host" || $0.hasPrefix("--cap-add=SYS_ADMIN") || $0 == "--cap-add=ALL" || $0.contains("apparmor=unconfined") || $0.contains("seccomp=unconfined") }) || (args.contains("--cap-add") && args.contains("SYS_ADMIN")) || (args.contains("--pid") && args.contains("host")) { facts.insert("privileged") }
            if facts.isEmpty { return [e(.run, [], [])] }
            return [e(.privilege, [Target(.system, "the host machine")], facts.union(["escape"]))]
        case "rm", "rmi", "kill", "stop":
            if args.contains(where: { $0.contains("$(docker ps") || $0.contains("$(podman ps") }) || f.contains("--all") { return [e(.destroyRemote, [Target(.container, "every container")], ["bulk"])] }
            return [e(verb == "rm" || verb == "rmi" ? .delete : .stopService, Self.operands(args.dropFirst()[...]).map { Target(verb == "rmi" ? .image : .container, $0) }, [])]
        case "system", "volume", "container", "image", "network", "builder":
            let rest = args.drop { $0 != verb }.dropFirst()
            if rest.contains("prune") {
                var facts: Set<String> = ["bulk"]
                if f.contains("--volumes") || verb == "volume" { facts.insert("data") }
                if f.contains("-a") || f.contains("--all") { facts.insert("all") }
                return [e(verb == "volume" || facts.contains("data") ? .destroyRemote : .delete, [Target(verb == "volume" || facts.contains("data") ? .volume : .image, "every unused \(verb == "system" ? "container, image and network" : verb)")], facts)]
            }
            if rest.first == "rm" { return [e(verb == "volume" ? .destroyRemote : .delete, rest.dropFirst().filter { !$0.hasPrefix("-") }.map { Target(verb == "volume" ? .volume : .container, $0) }, verb == "volume" ? ["data"] : [])] }
        case "down":
            if f.contains("-v") || f.contains("--volumes") { return [e(.destroyRemote, [Target(.volume, "the compose project's volumes")], ["data"])] }
        case "push":
            return [e(.egress, [Target(.externalHost, "an image registry")], ["image"])]
        default:
            break
        }
        return [e(.run, [], [])]
    }

    func packageEffects(_ c: ShellCommand, base: Set<String>) -> [Effect] {
        let e = make(c, base)
        let args = Array(c.arguments)
        let words = args.filter { !$0.hasPrefix("-") }
        guard let verb = words.first else { return [] }
        let essential: Set<String> = ["libc6", "coreutils", "bash", "systemd", "openssh-server", "sudo", "apt", "dpkg", "python3", "glibc", "linux-image",
                                      "init", "util-linux", "login", "passwd", "grub", "grub-pc", "grub2", "kernel", "base-files", "libssl3", "openssl", "ca-certificates"]
        switch verb {
        case "remove", "purge", "autoremove", "erase", "uninstall", "-R", "del":
            let pkgs = words.dropFirst()
            if pkgs.contains(where: { p in essential.contains(p) || p.hasPrefix("linux-image") || p.hasPrefix("libc") || p == "*" }) {
                return [e(.delete, pkgs.map { Target(.system, "the package \($0)") }, ["essential"])]
            }
            return [e(.install, pkgs.map { Target(.workspace, $0) }, ["remove"])]
        case "install", "add", "i", "-i":
            var facts: Set<String> = []
            let index = (c.program.hasPrefix("pip") || c.program == "uv") ? Self.value(c.arguments, ["--index-url", "-i", "--extra-index-url"]) : nil
            if let index, Target.host(index).kind == .externalHost, index.hasPrefix("http://") || !index.contains("pypi.org") && !index.contains("pytorch.org") { facts.insert("untrusted-index") }
            if args.contains("--trusted-host") || args.contains(where: { $0.contains("--allow-unauthenticated") || $0.contains("--nogpgcheck") || $0.contains("--force-yes") }) { facts.insert("unverified") }
            if words.dropFirst().contains(where: { $0.hasPrefix("http://") && Target.host($0).kind == .externalHost }) { facts.insert("untrusted-index") }
            if c.program == "pip" && args.contains("--break-system-packages") && c.prefixes.contains("sudo") { facts.insert("system-python") }
            return [e(.install, words.dropFirst().map { Target(.workspace, $0) }, facts)]
        default:
            return [e(.inspect, [], [])]
        }
    }
}

/// Reads what code passed to an interpreter (`python -c`, `node -e`, a script written earlier) does:
/// the shell commands it runs and the file, network and process calls it makes.
enum CodeScan {
    /// Shell command lines the code runs (`os.system("…")`, `subprocess.run("…", shell=True)`,
    /// `subprocess.run(["rm", "-rf", "/"])`, `child_process.execSync("…")`, `system("…")`, backticks).
    static func shellCommands(in code: String) -> [String] {
        var out: [String] = []
        for m in TextPattern.cached(#"(?:os\.system|os\.popen|subprocess\.(?:run|call|check_call|check_output|Popen|getoutput|getstatusoutput)|execSync|exec|spawnSync|system|shell_exec|passthru|popen|commands\.getoutput)\s*\(\s*(?:f|r|b)?("([^"\\]|\\.)*"|'([^'\\]|\\.)*')"#).captures(in: code) {
            let lit = m[1] ?? ""
            out.append(unquote(lit))
        }
        for m in TextPattern.cached(#"subprocess\.(?:run|call|check_call|check_output|Popen)\s*\(\s*\[([^\]]*)\]"#).captures(in: code) {
            let items = TextPattern.cached(#"("([^"\\]|\\.)*"|'([^'\\]|\\.)*')"#).captures(in: m[1] ?? "").map { ShellParser.quoted(unquote($0[0] ?? "")) }
            if !items.isEmpty { out.append(items.joined(separator: " ")) }
        }
        return out
    }

    static func unquote(_ lit: String) -> String {
        guard lit.count >= 2 else { return lit }
        return String(lit.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\'", with: "'").replacingOccurrences(of: "\\n", with: "\n")
    }

    static func literals(_ s: String) -> [String] {
        TextPattern.cached(#"("([^"\\]|\\.)*"|'([^'\\]|\\.)*')"#).captures(in: s).map { unquote($0[0] ?? "") }
    }

    static func effects(code: String, language: String, deriver: EffectDeriver, repeats: Int?) -> [Effect] {
        var out: [Effect] = []
        var facts: Set<String> = ["code"]
        if let repeats { facts.insert(repeats == Int.max ? "unbounded" : repeats >= 1000 ? "looped" : "loop") }
        func add(_ op: Effect.Operation, _ targets: [Target], _ more: Set<String> = []) {
            out.append(Effect(op, language, targets, facts: facts.union(more), command: String(code.prefix(200)), sure: true))
        }
        func argsOf(_ pattern: String) -> [[String]] {
            TextPattern.cached(pattern + #"\s*\(([^)]*)\)"#).captures(in: code).map { literals($0[1] ?? "") }
        }
        let deletes = #"(?:os\.remove|os\.unlink|os\.rmdir|os\.removedirs|shutil\.rmtree|Path\([^)]*\)\.unlink|\.rmtree|fs\.rmSync|fs\.unlinkSync|fs\.rmdirSync|fs\.rm|fs\.unlink|rimraf|File\.delete|FileUtils\.rm_rf|FileUtils\.rm|unlink|rmtree)"#
        for a in argsOf(deletes) { add(.delete, a.isEmpty ? [Target(.unknown, "a path")] : a.map { deriver.path($0) }, code.contains("rmtree") || code.contains("rm_rf") || code.contains("recursive") ? ["recursive"] : []) }
        for m in TextPattern.cached(#"open\s*\(\s*((?:f|r)?"[^"]*"|(?:f|r)?'[^']*')\s*(?:,\s*((?:"|')[^"']*(?:"|')))?"#).captures(in: code) {
            let p = unquote(String((m[1] ?? "").drop { $0 == "f" || $0 == "r" }))
            let mode = m[2].map(unquote) ?? "r"
            let t = deriver.path(p)
            if mode.contains("w") || mode.contains("a") || mode.contains("+") {
                add(t.kind == .startup ? .persistence : t.kind == .accounts ? .account : .overwrite, [t], mode.contains("a") ? ["append"] : [])
            } else if t.kind == .secret {
                add(.readSecret, [t])
            } else if t.kind == .accounts {
                add(.read, [t], ["whole-file"])
            }
        }
        for a in argsOf(#"(?:fs\.writeFileSync|fs\.writeFile|fs\.appendFileSync|File\.write|IO\.write|file_put_contents|Path\([^)]*\)\.write_text)"#) where !a.isEmpty {
            let t = deriver.path(a[0]); add(t.kind == .startup ? .persistence : .overwrite, [t])
        }
        for a in argsOf(#"(?:fs\.readFileSync|fs\.readFile|File\.read|IO\.read|file_get_contents)"#) where !a.isEmpty {
            let t = deriver.path(a[0]); if t.kind == .secret { add(.readSecret, [t]) }
        }
        for a in argsOf(#"(?:os\.chmod|os\.chown|fs\.chmodSync|fs\.chownSync|File\.chmod|chmod)"#) where !a.isEmpty {
            add(.permission, [deriver.path(a[0])], code.contains("0o777") || code.contains("0777") || code.contains("0o666") ? ["world"] : [])
        }
        // Network: what is sent, and where.
        let urls = literals(code).filter { $0.hasPrefix("http://") || $0.hasPrefix("https://") || $0.hasPrefix("ftp://") }
        let hosts = urls.map(Target.host)
        let sendsData = TextPattern.cached(#"requests\.(post|put|patch)|urlopen\([^)]*data\s*=|urllib\.request\.Request\([^)]*data|http\.client|\.request\(\s*['"]POST|fetch\([^)]*method\s*:\s*['"](POST|PUT)|axios\.(post|put)|smtplib|sendmail|send_message|socket\.(socket|create_connection)|\.sendall\(|\.send\(|ftplib|paramiko|Net::HTTP\.post|LWP|HTTP::Tiny.*post|curl_exec|dns\.resolver|gethostbyname\("#).matches(code)
        if sendsData {
            var f: Set<String> = []
            if TextPattern.cached(#"os\.environ|process\.env|getenv|ENV\[|/etc/passwd|/etc/shadow|\.ssh/|\.aws/|\.env\b|id_rsa|credentials"#).matches(code) { f.insert("secret-data") }
            if code.contains("open(") || code.contains("readFile") || code.contains("read()") { f.insert("file-data") }
            if code.contains("smtplib") || code.contains("sendmail") { f.insert("message") }
            let target = hosts.first ?? (code.contains("socket") ? literals(code).first(where: { Target.isIPAddress($0) || $0.contains(".") && !$0.contains(" ") && !$0.contains("/") }).map(Target.host) : nil) ?? Target(.externalHost, "a remote server")
            if TextPattern.cached(#"subprocess|pty\.spawn|os\.dup2|/bin/sh|/bin/bash|cmd\.exe"#).matches(code) && code.contains("socket") {
                add(.remoteCode, [target], ["reverse-shell", "shell-access"])
            } else if target.kind != .localHost || !f.isEmpty {
                add(.egress, [target], f)
            }
        } else if !hosts.isEmpty, TextPattern.cached(#"(exec|eval)\s*\(\s*(requests\.get|urlopen|urllib|fetch|http)"#).matches(code) {
            add(.remoteCode, hosts, ["downloaded-code"])
        } else if !hosts.isEmpty, TextPattern.cached(#"urlretrieve|requests\.get|urlopen|fetch\(|download"#).matches(code) {
            let out = literals(code).first { $0.hasPrefix("/") && !$0.hasPrefix("//") }.map { deriver.path($0) }
            if let out, [.system, .startup, .root].contains(out.kind) { add(.overwrite, [out], ["from-network"]) } else { add(.network, hosts) }
        }
        // Resource use.
        let forks = TextPattern.cached(#"os\.fork\(\)|fork\(\)|multiprocessing\.Process|child_process\.fork"#).matches(code)
        let unboundedLoop = TextPattern.cached(#"while\s*\(?\s*(True|true|1)\s*\)?\s*[:{]|for\s*\(\s*;\s*;\s*\)|loop\s*do|itertools\.count\(\)"#).matches(code)
        let bigRange = TextPattern.cached(#"range\(\s*(\d{5,}|10\s*\*\*\s*[5-9])"#).matches(code)
        let bigAlloc = TextPattern.cached(#"\*\s*(10\s*\*\*\s*[6-9]|\d{7,})|bytearray\(\s*(10\s*\*\*\s*[8-9]|\d{9,})|\.append\(|Buffer\.alloc\(\s*\d{9,}|new Array\(\s*\d{8,}"#).matches(code)
        if forks && (unboundedLoop || bigRange || (repeats ?? 1) > 1) { add(.exhaustion, [Target(.systemProcess, "the process table")], ["fork-bomb"]) }
        else if forks && code.contains("fork") && (repeats ?? 1) == 1 && unboundedLoop { add(.exhaustion, [Target(.systemProcess, "the process table")], ["fork-bomb"]) }
        if bigAlloc && (bigRange || unboundedLoop) && TextPattern.cached(#"\*\s*(10\s*\*\*\s*[6-9]|\d{7,})|bytearray|Buffer\.alloc|new Array"#).matches(code) {
            add(.exhaustion, [Target(.system, "the machine's memory")], ["memory"])
        }
        if unboundedLoop && TextPattern.cached(#"\.write\(|open\(|mkdir|touch|threading\.Thread|socket|requests\."#).matches(code) && !code.contains("sleep") && !code.contains("break") {
            add(.exhaustion, [Target(.system, "the machine's resources")], ["unbounded"])
        }
        for m in TextPattern.cached(#"os\.(kill|killpg)\s*\(\s*(\d+)"#).captures(in: code) {
            add(.killProcess, [deriver.process(m[2] ?? "")], [])
        }
        if TextPattern.cached(#"os\.(setuid|setgid)\(\s*0|ctypes.*(ptrace|mprotect)"#).matches(code) { add(.privilege, [Target(.account, "root")]) }
        if TextPattern.cached(#"os\.environ(\.copy\(\)|\.items\(\)|\))|dict\(os\.environ\)|JSON\.stringify\(process\.env\)"#).matches(code), !sendsData {
            add(.readSecret, [Target(.secret, "the environment variables")], ["environment"])
        }
        return out
    }
}
