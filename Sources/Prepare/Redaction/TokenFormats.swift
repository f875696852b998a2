/// Provider token formats, written from what each provider documents about its tokens: a fixed prefix
/// (or an infix such as Azure AD's `Q~` or Mailchimp's `-us<dc>`), the alphabet and length of the rest,
/// and a check where the format carries one (GitHub's CRC32 suffix, a JWT's JSON header). Matched on
/// bytes in one pass: a 64 Ki-bit table of the prefixes' first two bytes says where a prefix can start,
/// so ordinary text costs one load per byte.
struct TokenFormat: Sendable {
    let kind: String
    let prefix: [UInt8]
    let body: SecretRedactor.ByteSet
    let min: Int
    let max: Int
    /// Bytes before the prefix that belong to the token (an infix format): how many, of which alphabet.
    var before: (set: SecretRedactor.ByteSet, count: Int)? = nil
    /// Extra shape checks on the whole token.
    var check: (@Sendable ([UInt8]) -> Bool)? = nil
    /// Whether the prefix may follow a letter or digit (a prefix inside a longer word is not a token
    /// start unless the format says so).
    var inWord = false

    init(_ kind: String, _ prefix: String, _ body: SecretRedactor.ByteSet, _ min: Int, _ max: Int? = nil,
         before: (SecretRedactor.ByteSet, Int)? = nil, inWord: Bool = false, check: (@Sendable ([UInt8]) -> Bool)? = nil) {
        self.kind = kind
        self.prefix = Array(prefix.utf8)
        self.body = body
        self.min = min
        self.max = max ?? min
        self.before = before.map { (set: $0.0, count: $0.1) }
        self.inWord = inWord
        self.check = check
    }
}

enum TokenFormats {
    typealias S = SecretRedactor.ByteSet
    static let alnum = S("A-Za-z0-9")
    static let upperDigits = S("A-Z0-9")
    static let lowerDigits = S("a-z0-9")
    static let hex = S("0-9a-f")
    static let hexAny = S("0-9a-fA-F")
    static let word = S("A-Za-z0-9_")
    static let wordDash = S("A-Za-z0-9_") + "-"
    static let b64 = S("A-Za-z0-9+/") + "="
    static let b64url = S("A-Za-z0-9_") + "-="
    static let dotted = S("A-Za-z0-9_") + "-."

    /// The formats, most specific first where prefixes overlap (`sk-ant-` before `sk-`).
    static let all: [TokenFormat] = [
        // Cloud and infrastructure.
        .init("aws-access-key", "AKIA", upperDigits, 16), .init("aws-access-key", "ASIA", upperDigits, 16),
        .init("aws-access-key", "ABIA", upperDigits, 16), .init("aws-access-key", "ACCA", upperDigits, 16),
        .init("aws-access-key", "AGPA", upperDigits, 16), .init("aws-access-key", "AIDA", upperDigits, 16),
        .init("aws-access-key", "AROA", upperDigits, 16), .init("aws-access-key", "AIPA", upperDigits, 16),
        .init("aws-access-key", "ANPA", upperDigits, 16), .init("aws-access-key", "ANVA", upperDigits, 16),
        .init("aws-access-key", "APKA", upperDigits, 16),
        .init("aws-bedrock-key", "ABSK", b64, 100, 400),
        .init("aws-bedrock-key", "bedrock-api-key-", b64, 100, 2000),
        .init("gcp-api-key", "AIza", wordDash, 35),
        .init("google-oauth-secret", "GOCSPX-", wordDash, 28),
        .init("google-oauth-token", "ya29.", wordDash, 30, 2000),
        .init("google-refresh-token", "1//0", wordDash, 40, 200),
        .init("azure-ad-client-secret", "Q~", S("A-Za-z0-9_~.") + "-", 31, 34, before: (S("A-Za-z0-9_~."), 4), inWord: true,
              check: { t in t[3] >= 0x30 && t[3] <= 0x39 }),
        .init("alibaba-access-key", "LTAI", alnum, 20),
        .init("digitalocean-token", "dop_v1_", hex, 64), .init("digitalocean-token", "doo_v1_", hex, 64),
        .init("digitalocean-token", "dor_v1_", hex, 64),
        .init("heroku-api-key", "HRKU-AA", wordDash, 58),
        .init("flyio-token", "fo1_", wordDash, 43), .init("flyio-token", "fm1r_", b64url, 100, 2000),
        .init("flyio-token", "fm2_", b64url, 100, 2000),
        .init("terraform-cloud-token", ".atlasv1.", S("a-z0-9_=") + "-", 60, 70, before: (lowerDigits, 14), inWord: true),
        .init("vault-token", "hvs.", wordDash, 90, 120), .init("vault-token", "hvb.", wordDash, 138, 300),
        .init("vault-token", "hvr.", wordDash, 90, 120),
        .init("doppler-token", "dp.pt.", alnum, 43), .init("doppler-token", "dp.st.", S("a-z0-9_.") + "-", 40, 100),
        .init("doppler-token", "dp.sa.", alnum, 40, 50), .init("doppler-token", "dp.ct.", alnum, 40, 50),
        .init("doppler-token", "dp.scim.", alnum, 40, 50), .init("doppler-token", "dp.audit.", alnum, 40, 50),
        .init("pulumi-token", "pul-", hex, 40),
        .init("planetscale-token", "pscale_tkn_", dotted + "=", 32, 64), .init("planetscale-token", "pscale_oauth_", dotted + "=", 32, 64),
        .init("planetscale-password", "pscale_pw_", dotted + "=", 32, 64),
        .init("cloudflare-origin-ca-key", "v1.0-", S("a-f0-9") + "-", 171),
        .init("databricks-token", "dapi", hex, 32, 34),
        .init("scalingo-token", "tk-us-", wordDash, 48),
        .init("netlify-token", "nfp_", alnum, 36, 40),
        .init("clickhouse-key", "4b1d", alnum, 38),
        .init("render-key", "rnd_", alnum, 32),
        .init("supabase-token", "sbp_", hex, 40), .init("supabase-key", "sb_secret_", wordDash, 30, 60),
        .init("age-secret-key", "AGE-SECRET-KEY-1", S("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"), 58),
        .init("1password-secret-key", "A3-", upperDigits + "-", 33, 40),
        .init("1password-token", "ops_eyJ", b64, 250, 4000),
        .init("openshift-token", "sha256~", wordDash, 43),
        .init("octopus-deploy-key", "API-", upperDigits, 26, 32),
        .init("harness-token", "pat.", dotted, 60, 100, check: { t in t.filter { $0 == 0x2E }.count == 3 }),
        .init("harness-token", "sat.", dotted, 60, 100, check: { t in t.filter { $0 == 0x2E }.count == 3 }),
        .init("infracost-token", "ico-", alnum, 32),
        .init("prefect-token", "pnu_", alnum, 36),
        .init("defined-networking-token", "dnkey-", S("a-z0-9=_") + "-", 70, 90),
        .init("tailscale-key", "tskey-api-", wordDash, 20, 100), .init("tailscale-key", "tskey-auth-", wordDash, 20, 100),
        .init("tailscale-key", "tskey-client-", wordDash, 20, 100),
                // Observability.
        .init("grafana-cloud-token", "glc_", b64, 32, 400),
        .init("grafana-service-account-token", "glsa_", S("A-Za-z0-9_"), 41),
        .init("grafana-api-key", "eyJrIjoi", b64, 70, 400),
        .init("dynatrace-token", "dt0c01.", upperDigits + ".", 89),
        .init("new-relic-key", "NRAK-", upperDigits, 27), .init("new-relic-key", "NRJS-", hex, 19),
        .init("new-relic-key", "NRII-", wordDash, 32), .init("new-relic-key", "NRAA-", hex, 27),
        .init("sentry-token", "sntrys_eyJ", b64 + "_", 50, 400), .init("sentry-token", "sntryu_", hex, 64),
        .init("sonar-token", "squ_", hexAny, 40), .init("sonar-token", "sqp_", hexAny, 40), .init("sonar-token", "sqa_", hexAny, 40),
        .init("buildkite-token", "bkua_", hex, 40),
        .init("circleci-token", "CCIPAT_", wordDash, 40, 80),
        // Version control, CI and package registries.
        .init("github-token", "ghp_", alnum, 36, 255), .init("github-token", "gho_", alnum, 36, 255),
        .init("github-token", "ghu_", alnum, 36, 255), .init("github-token", "ghs_", alnum, 36, 255),
        .init("github-token", "ghr_", alnum, 36, 255), .init("github-token", "github_pat_", word, 22, 255),
        .init("gitlab-token", "glpat-", dotted, 20, 300), .init("gitlab-token", "gldt-", wordDash, 20, 100),
        .init("gitlab-token", "glft-", wordDash, 20, 100), .init("gitlab-token", "glsoat-", wordDash, 20, 100),
        .init("gitlab-token", "glrt-", dotted, 20, 300), .init("gitlab-token", "glcbt-", wordDash, 20, 100),
        .init("gitlab-token", "glimt-", wordDash, 25, 100), .init("gitlab-token", "glagent-", wordDash, 50, 200),
        .init("gitlab-token", "gloas-", wordDash, 64, 200), .init("gitlab-token", "glptt-", wordDash, 40, 100),
        .init("gitlab-token", "glffct-", wordDash, 20, 100), .init("gitlab-token", "GR1348941", wordDash, 20, 100),
        .init("gitlab-token", "_gitlab_session=", hex, 32),
        .init("bitbucket-app-password", "ATBB", alnum, 32),
        .init("atlassian-token", "ATATT3", S("A-Za-z0-9_=") + "-", 180, 300),
                .init("npm-token", "npm_", alnum, 36),
        .init("pypi-token", "pypi-AgE", wordDash, 50, 400),
        .init("rubygems-token", "rubygems_", hex, 48),
        .init("nuget-key", "oy2", lowerDigits, 43),
        .init("clojars-token", "CLOJARS_", lowerDigits, 60),
        .init("docker-hub-token", "dckr_pat_", wordDash, 27, 100), .init("docker-hub-token", "dckr_oat_", wordDash, 27, 100),
        .init("artifactory-key", "AKCp", alnum, 69), .init("artifactory-token", "cmVmd", alnum, 59),
        .init("postman-key", "PMAK-", hex + "-", 59),
        .init("readme-key", "rdme_", lowerDigits, 70),
        .init("linear-key", "lin_api_", alnum, 40), .init("linear-key", "lin_oauth_", hex, 64),
        .init("notion-token", "ntn_", alnum, 46), .init("notion-token", "secret_", alnum, 43),
        .init("airtable-token", "pat", alnum + ".", 79, 79, check: { t in t.count == 82 && t[17] == 0x2E }),
        .init("figma-token", "figd_", wordDash, 40, 60),
        .init("sourcegraph-token", "sgp_", S("A-Za-z0-9_"), 40, 70, check: sourcegraphShape),
        // 42 (intra.42.fr) OAuth client secrets: `s-s4t2ud-` / `s-s4t2af-` and 64 hex digits.
        .init("intra42-secret", "s-s4t2ud-", S("0-9a-f"), 64, 64), .init("intra42-secret", "s-s4t2af-", S("0-9a-f"), 64, 64), .init("sourcegraph-token", "sgs_", S("A-Za-z0-9_"), 40, 70),
        .init("contentful-token", "CFPAT-", wordDash, 43),
        .init("adobe-client-secret", "p8e-", alnum, 32),
        .init("typeform-token", "tfp_", dotted, 59, 70),
        .init("launchdarkly-key", "api-", hex + "-", 36, 36, check: isUUIDTail),
        .init("launchdarkly-key", "sdk-", hex + "-", 36, 36, check: isUUIDTail),
        .init("settlemint-token", "sm_aat_", alnum, 16), .init("settlemint-token", "sm_pat_", alnum, 16),
        .init("settlemint-token", "sm_sat_", alnum, 16),
        .init("frameio-token", "fio-u-", wordDash + "=", 64),
                // Payment.
        .init("stripe-key", "sk_live_", alnum, 16, 255), .init("stripe-key", "sk_test_", alnum, 16, 255),
        .init("stripe-key", "rk_live_", alnum, 16, 255), .init("stripe-key", "rk_test_", alnum, 16, 255),
        .init("stripe-webhook-secret", "whsec_", alnum + "/+=", 24, 100),
        .init("square-token", "EAAA", wordDash, 60), .init("square-token", "sq0atp-", wordDash, 22),
        .init("square-secret", "sq0csp-", wordDash, 43),
        .init("braintree-token", "access_token$production$", alnum + "$", 30, 80),
        .init("plaid-token", "access-sandbox-", hex + "-", 36), .init("plaid-token", "access-production-", hex + "-", 36),
        .init("plaid-token", "access-development-", hex + "-", 36),
        .init("flutterwave-key", "FLWSECK_TEST-", hex + "-X", 34), .init("flutterwave-key", "FLWSECK-", hex + "-X", 34),
        .init("flutterwave-key", "FLWPUBK_TEST-", hex + "-X", 34), .init("flutterwave-key", "FLWSECK_TEST", hex, 12),
        .init("gocardless-token", "live_", wordDash, 40), .init("gocardless-token", "sandbox_", wordDash, 40),
        .init("duffel-token", "duffel_test_", wordDash + "=", 43), .init("duffel-token", "duffel_live_", wordDash + "=", 43),
        .init("easypost-key", "EZAK", alnum, 54), .init("easypost-key", "EZTK", alnum, 54),
        .init("lob-key", "live_pub_", hex, 31), .init("lob-key", "test_pub_", hex, 31),
        .init("shippo-token", "shippo_live_", hex, 40), .init("shippo-token", "shippo_test_", hex, 40),
        .init("shopify-token", "shpat_", hexAny, 32), .init("shopify-token", "shpca_", hexAny, 32),
        .init("shopify-token", "shppa_", hexAny, 32), .init("shopify-token", "shpss_", hexAny, 32),
                        .init("amazon-mws-token", "amzn.mws.", hex + "-", 36),
        // Chat, e-mail and messaging.
        .init("slack-token", "xoxb-", alnum + "-", 10, 255, check: slackShape), .init("slack-token", "xoxp-", alnum + "-", 10, 255, check: slackShape),
        .init("slack-token", "xoxa-", alnum + "-", 10, 255, check: slackShape), .init("slack-token", "xoxr-", alnum + "-", 10, 255, check: slackShape),
        .init("slack-token", "xoxs-", alnum + "-", 10, 255, check: slackShape), .init("slack-token", "xoxe.xoxp-", alnum + "-", 10, 255),
        .init("slack-token", "xoxc-", alnum + "-", 10, 255, check: slackShape), .init("slack-token", "xoxe-", alnum + "-", 140, 255), .init("slack-token", "xapp-", alnum + "-", 30, 255, check: slackShape),
        .init("slack-webhook", "hooks.slack.com/services/", alnum + "/_-", 20, 200, inWord: true),
        .init("slack-webhook", "hooks.slack.com/workflows/", alnum + "/_-", 20, 200, inWord: true),
        .init("teams-webhook", ".webhook.office.com/webhookb2/", alnum + "/@-", 60, 300, inWord: true),
        .init("discord-webhook", "discord.com/api/webhooks/", wordDash + "/", 60, 120, inWord: true),
        .init("discord-webhook", "discordapp.com/api/webhooks/", wordDash + "/", 60, 120, inWord: true),
        .init("telegram-bot-token", ":AA", wordDash, 33, 33, before: (S("0-9"), 8), inWord: true),
        .init("sendgrid-key", "SG.", wordDash + ".", 66, 66, check: { t in t[25] == 0x2E }),
        .init("sendinblue-key", "xkeysib-", alnum + "-", 81), .init("sendinblue-key", "xsmtpsib-", alnum + "-", 81),
        .init("mailgun-key", "key-", hexAny, 32), .init("mailgun-key", "pubkey-", hexAny, 32),
        .init("mailchimp-key", "-us", S("0-9"), 1, 2, before: (hex, 32), inWord: true),
        .init("twilio-key", "SK", hex, 32), .init("twilio-key", "AC", hex, 32),
        .init("facebook-token", "EAACEdEose0cBA", alnum, 20, 255), .init("facebook-token", "EAAB", alnum, 100, 255),
        .init("facebook-token", "EAAM", alnum, 100, 255), .init("facebook-token", "EAAG", alnum, 100, 255),
        .init("twitter-bearer-token", "AAAAAAAAAAAAAAAAAAAAA", alnum + "%", 80, 120),
        .init("dropbox-token", "sl.", wordDash + "=", 130, 1400),
        .init("mapbox-token", "sk.eyJ", wordDash + ".", 80, 300),
        .init("firebase-server-key", ":APA91b", wordDash, 134, 200, before: (wordDash, 11), inWord: true),
        // Databases and data services.
                        .init("pinecone-key", "pcsk_", wordDash, 50, 120),
                // LLM and AI APIs.
        .init("anthropic-key", "sk-ant-api03-", wordDash, 80, 120), .init("anthropic-key", "sk-ant-admin01-", wordDash, 80, 120),
        .init("anthropic-key", "sk-ant-", wordDash, 20, 200),
        .init("openrouter-key", "sk-or-v1-", hex, 64),
        .init("openai-key", "sk-proj-", wordDash, 20, 300), .init("openai-key", "sk-svcacct-", wordDash, 20, 300),
        .init("openai-key", "sk-admin-", wordDash, 20, 300), .init("openai-key", "sk-None-", wordDash, 20, 300),
        .init("openai-key", "sk-", wordDash, 20, 300),
        .init("huggingface-token", "hf_", S("A-Za-z"), 34, 34, check: mixedCase),
        .init("huggingface-token", "api_org_", S("A-Za-z"), 34, 34, check: mixedCase),
        .init("perplexity-key", "pplx-", alnum, 48),
        .init("groq-key", "gsk_", alnum, 52),
        .init("replicate-token", "r8_", alnum, 37),
        .init("xai-key", "xai-", alnum, 80),
                .init("langsmith-key", "lsv2_pt_", hex + "_", 43), .init("langsmith-key", "lsv2_sk_", hex + "_", 43),
        .init("nvidia-key", "nvapi-", wordDash, 64),
        .init("elevenlabs-key", "sk_", hex, 48),
                                        .init("yandex-token", "t1.", S("A-Za-z0-9_=.") + "-", 90, 200),
        .init("yandex-key", "AQVN", wordDash, 35, 38),
        // Tokens whose shape says what they are.
        .init("jwt", "eyJ", b64url + ".", 20, 20_000, check: jwtShape),
        .init("jwt", "ZXlK", b64, 40, 20_000, check: base64JWT),
        .init("maxmind-key", "_mmk", S("A-Za-z0-9_"), 0, 0, before: (S("A-Za-z0-9_"), 36), inWord: true,
              check: { t in t[6] == 0x5F }),
    ]

    static func isUUIDTail(_ t: [UInt8]) -> Bool {
        let u = t.suffix(36)
        return [8, 13, 18, 23].allSatisfy { u[u.startIndex + $0] == 0x2D }
    }

    /// `xoxb-<digits>-…`: Slack tokens carry the team and user numbers, not words (`xoxo-` in a file
    /// name is not one).
    static func slackShape(_ t: [UInt8]) -> Bool {
        let rest = t.dropFirst(5)
        guard let first = rest.first, first >= 0x30 && first <= 0x39 || t.starts(with: Array("xapp-".utf8)) else { return false }
        return t.contains { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// Sourcegraph access tokens: `sgp_` then 40 hex digits, `sgp_local_` then 40, or `sgp_` 16 hex `_` 40 hex.
    static func sourcegraphShape(_ t: [UInt8]) -> Bool {
        func hex(_ s: ArraySlice<UInt8>) -> Bool { s.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) } }
        let body = t.dropFirst(4)
        if body.count == 40 { return hex(body) }
        if body.starts(with: Array("local_".utf8)) { return body.count == 46 && hex(body.dropFirst(6)) }
        let parts = body.split(separator: 0x5F, omittingEmptySubsequences: false)
        return parts.count == 2 && parts[0].count == 16 && parts[1].count == 40 && hex(parts[0]) && hex(parts[1])
    }

    static func mixedCase(_ t: [UInt8]) -> Bool {
        let body = t.drop { $0 != 0x5F }
        return body.contains { $0 >= 0x41 && $0 <= 0x5A } && body.contains { $0 >= 0x61 && $0 <= 0x7A }
    }

    /// `header.payload.signature` (the signature may be empty: unsigned tokens), the header JSON.
    static func jwtShape(_ t: [UInt8]) -> Bool {
        let parts = t.split(separator: 0x2E, omittingEmptySubsequences: false)
        guard parts.count == 3 || (parts.count == 4 && parts[3].isEmpty), parts[0].count >= 10, parts[1].count >= 8 else { return false }
        return parts[1].starts(with: Array("eyJ".utf8)) || parts[1].starts(with: Array("ey".utf8))
    }

    /// A base64-wrapped JWT: `ZXlK` is base64 for `eyJ`; the decoded text must be a JWT.
    static func base64JWT(_ t: [UInt8]) -> Bool {
        guard let decoded = Base64.decode(t) else { return false }
        return decoded.count >= 20 && decoded.starts(with: Array("eyJ".utf8)) && decoded.contains(0x2E)
    }
}

enum Base64 {
    /// Standard or URL alphabet, padding optional; nil on any other byte.
    static func decode(_ t: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(t.count * 3 / 4)
        var acc: UInt32 = 0, bits = 0
        for c in t {
            let v: UInt32
            switch c {
            case 0x41...0x5A: v = UInt32(c - 0x41)
            case 0x61...0x7A: v = UInt32(c - 0x61 + 26)
            case 0x30...0x39: v = UInt32(c - 0x30 + 52)
            case 0x2B, 0x2D: v = 62
            case 0x2F, 0x5F: v = 63
            case 0x3D: continue
            default: return nil
            }
            acc = acc << 6 | v
            bits += 6
            if bits >= 8 { bits -= 8; out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits))) }
        }
        return out
    }
}

/// Finds tokens of the known formats in a text's bytes.
struct TokenScanner: Sendable {
    let formats: [TokenFormat]
    /// Bit per two-byte pair: some format's prefix starts with it.
    private let starts: [UInt64]
    /// Formats by the first two bytes of their prefix: `order[first[pair]..<first[pair + 1]]` (flat
    /// arrays, so a pair that occurs in ordinary text costs no hashing).
    private let first: [Int32]
    private let order: [Int32]
    /// Per format, what the first test needs without copying the format: the prefix bytes after the
    /// first two (`prefixBytes[prefixStart[k]..<prefixStart[k + 1]]`), and whether the byte before
    /// the prefix must not be a word byte (no infix, not `inWord`).
    private let prefixStart: [Int32]
    private let prefixBytes: [UInt8]
    private let startsWord: [Bool]

    init(_ formats: [TokenFormat] = TokenFormats.all) {
        self.formats = formats
        var starts = [UInt64](repeating: 0, count: 1024)
        var byPair = [[Int32]](repeating: [], count: 65536)
        for (k, f) in formats.enumerated() {
            precondition(f.prefix.count >= 2, "a token prefix has at least two bytes")
            let key = Int(f.prefix[0]) << 8 | Int(f.prefix[1])
            starts[key >> 6] |= 1 << UInt64(key & 63)
            byPair[key].append(Int32(k))
        }
        var first = [Int32](repeating: 0, count: 65537)
        var order: [Int32] = []
        for key in 0..<65536 {
            first[key] = Int32(order.count)
            order += byPair[key]
        }
        first[65536] = Int32(order.count)
        var prefixStart: [Int32] = []
        var prefixBytes: [UInt8] = []
        for f in formats {
            prefixStart.append(Int32(prefixBytes.count))
            prefixBytes += f.prefix.dropFirst(2)
        }
        prefixStart.append(Int32(prefixBytes.count))
        self.prefixStart = prefixStart
        self.prefixBytes = prefixBytes
        self.startsWord = formats.map { $0.before == nil && !$0.inWord }
        self.starts = starts
        self.first = first
        self.order = order
    }

    static let shared = TokenScanner()

    @inline(__always) static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b == 0x5F
    }

    /// Token ranges (byte offsets) with their kinds, in order and disjoint.
    func find(in b: UnsafeBufferPointer<UInt8>) -> [(range: Range<Int>, kind: String)] {
        var out: [(range: Range<Int>, kind: String)] = []
        let n = b.count
        guard n >= 2 else { return out }
        starts.withUnsafeBufferPointer { starts in
            var i = 0
            while i < n - 1 {
                let key = Int(b[i]) << 8 | Int(b[i + 1])
                guard starts[key >> 6] & (1 << UInt64(key & 63)) != 0 else { i += 1; continue }
                var matched: (Range<Int>, String)? = nil
                let afterWord = i > 0 && Self.isWordByte(b[i - 1])
                candidates: for c in Int(first[key])..<Int(first[key + 1]) {
                    let k = Int(order[c])
                    // The cheap tests first: the rest of the prefix, and a word start.
                    if afterWord && startsWord[k] { continue }
                    let lo = Int(prefixStart[k]), hi = Int(prefixStart[k + 1])
                    if i + 2 + (hi - lo) > n { continue }
                    for j in lo..<hi where b[i + 2 + j - lo] != prefixBytes[j] { continue candidates }
                    if let r = match(k, at: i, in: b) { matched = (r, formats[k].kind); break }
                }
                if let (r, kind) = matched {
                    out.append((r, kind))
                    i = r.upperBound
                } else {
                    i += 1
                }
            }
        }
        return out
    }

    private func match(_ k: Int, at i: Int, in b: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        let n = b.count
        let p = formats[k].prefix.count
        guard i + p <= n else { return nil }
        for j in 2..<max(2, p) where b[i + j] != formats[k].prefix[j] { return nil }
        let f = formats[k]
        var start = i
        if let before = f.before {
            guard i >= before.count else { return nil }
            for j in (i - before.count)..<i where !before.set.member[Int(b[j])] { return nil }
            start = i - before.count
            if start > 0, Self.isWordByte(b[start - 1]) || before.set.member[Int(b[start - 1])] { return nil }
        } else if !f.inWord, i > 0, Self.isWordByte(b[i - 1]) {
            return nil
        } else if !f.inWord, p <= 4, f.prefix.last == 0x2D || f.prefix.last == 0x2E, i > 0, [0x2E, 0x2F, 0x2D, 0x5C, 0x25].contains(b[i - 1]) {
            // A short prefix after `.`, `/` or `-` is part of a file name or a path (`video.ico-…`, `/API-…`).
            return nil
        }
        var j = i + p
        while j < n, j - i - p <= f.max, f.body.member[Int(b[j])] { j += 1 }
        let length = j - i - p
        guard length >= f.min, length <= f.max else { return nil }
        // The token ends at a boundary: not in the middle of a longer word.
        if j < n, Self.isWordByte(b[j]) { return nil }
        let token = Array(b[start..<j])
        if let check = f.check, !check(token) { return nil }
        // A prefix is strong evidence: only a body that is plainly filler (`xxxx`, `****`, one character
        // repeated, `<…>`) is left; `EXAMPLE` or `Sample` inside a real-shaped token is still redacted.
        if Placeholders.isFiller(token[(token.count - length)...]) { return nil }
        return start..<j
    }
}

/// Values documentation and tests use in place of secrets: `xxxx`, `EXAMPLE`, `your_api_key_here`, one
/// character repeated.
enum Placeholders {
    static let markers = ["xxxx", "example", "your_", "yourkey", "yourtoken", "placeholder", "changeme", "change_me", "redacted",
                          "dummy", "<", "...", "****", "0000000000", "todo", "fixme", "insert_", "replace_", "replaceme"]

    static func isFiller(_ body: ArraySlice<UInt8>) -> Bool {
        guard let first = body.first else { return true }
        if body.allSatisfy({ $0 == first }) { return true }
        let lower = String(decoding: body.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        // Documentation's conventions: AWS's `…EXAMPLE` keys, `…TokenHere`, `…STRINGHERE`.
        if lower.hasSuffix("example") || lower.hasSuffix("here") { return true }
        return ["xxxx", "****", "<", "...", "####"].contains { lower.contains($0) }
    }

    static func isPlaceholder(_ body: ArraySlice<UInt8>) -> Bool {
        guard let first = body.first else { return true }
        if body.allSatisfy({ $0 == first }) { return true }
        let lower = String(decoding: body.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        return markers.contains { lower.contains($0) } || lower.hasSuffix("here") || alphabetRun(body)
    }

    /// Eight or more letters in alphabetical order (`abcdefghijklmnopqrstuvwxyz`): a made-up stand-in, not key
    /// material (random values practically never hold one).
    static func alphabetRun(_ body: ArraySlice<UInt8>) -> Bool {
        var run = 1, prev: UInt8 = 0
        for c in body {
            let l = c | 0x20
            let letter = l >= 0x61 && l <= 0x7A
            run = letter && l == prev &+ 1 ? run + 1 : 1
            prev = letter ? l : 0
            if run >= 8 { return true }
        }
        return false
    }

    /// Typed by hand, not generated (used for values found by their name only; a provider prefix is
    /// evidence enough): an ascending run (`abcde`, `12345`), one character six times in a
    /// row, or a short block repeated (`123123123123`).
    static func madeUp(_ body: ArraySlice<UInt8>) -> Bool {
        let v = Array(body)
        var ascending = 1, same = 1
        for k in 1..<max(1, v.count) {
            let alnum = (v[k] | 0x20 >= 0x61 && v[k] | 0x20 <= 0x7A) || (v[k] >= 0x30 && v[k] <= 0x39)
            ascending = alnum && v[k] == v[k - 1] &+ 1 ? ascending + 1 : 1
            same = v[k] == v[k - 1] ? same + 1 : 1
            if ascending >= 5 || same >= 6 { return true }
        }
        for period in 2...4 where v.count >= period * 4 {
            var run = 0
            for k in period..<v.count {
                run = v[k] == v[k - period] ? run + 1 : 0
                if run >= period * 3 { return true }
            }
        }
        return false
    }
}
