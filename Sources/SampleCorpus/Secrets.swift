import Foundation
import Trajectories

/// Fake secrets planted in the sample corpus so that every build exercises redaction. None is real;
/// each has the shape of the kind it stands for.
enum Secrets {
    struct Sample {
        var kind: String
        var thought: String
        var command: String
        var output: String
    }

    static let samples: [Sample] = [
        Sample(kind: "aws-access-key", thought: "Check which AWS identity the environment uses.", command: "env | grep AWS",
               output: "AWS_ACCESS_KEY_ID=AKIAQX3EXAMPLE7KEY42\nAWS_REGION=eu-west-1"),
        Sample(kind: "github-token", thought: "See where the remote points.", command: "git remote -v",
               output: "origin\thttps://x-access-token:ghp_R4nd0mFakeTokenForSamples0123456789ab@github.com/acme/app.git (fetch)"),
        Sample(kind: "openai-key", thought: "Check the .env the service reads.", command: "cat .env",
               output: "OPENAI_MODEL=gpt-4o-mini\nLLM_KEY=sk-proj-FakeSampleKey1234567890abcdefghijklmnop"),
        Sample(kind: "private-key", thought: "Check the deploy key is present.", command: "cat deploy/id_ed25519",
               output: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACBfakefakefakefakefakefakefakefakefakefakefakefakeAAAA\n-----END OPENSSH PRIVATE KEY-----"),
        Sample(kind: "jwt", thought: "Call the API with the session token from the fixture.",
               command: "curl -s -H 'X-Session: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzYW1wbGUtdXNlciIsImV4cCI6MTcwMDAwMDAwMH0.c2FtcGxlLXNpZ25hdHVyZS1ub3QtcmVhbA' http://localhost:8080/me",
               output: "{\"user\": \"sample-user\"}"),
        Sample(kind: "slack-token", thought: "Read the notifier config.", command: "cat notifier.ini",
               output: "[slack]\nchannel = #builds\ntoken = xoxb-000000000000-FakeSampleSlackToken"),
        Sample(kind: "password", thought: "Check the database settings.", command: "cat config/database.env",
               output: "DB_HOST=localhost\nDB_PASSWORD=hunter2-sample-Pa55\nDB_NAME=app"),
        Sample(kind: "url-password", thought: "See which database URL the app uses.", command: "echo $DATABASE_URL",
               output: "postgres://app:S3cretSamplePw@db.internal:5432/app"),
        Sample(kind: "anthropic-key", thought: "Look at the CI secrets template.", command: "cat ci/secrets.example",
               output: "ANTHROPIC_KEY_VALUE=sk-ant-api03-FakeSampleAnthropicKey_0123456789abcdef"),
        Sample(kind: "gcp-api-key", thought: "Check the maps client configuration.", command: "grep -r apiKey web/config.js",
               output: "web/config.js:  mapsKey: \"AIzaSyFakeSampleKey0123456789abcdefghij\","),
        Sample(kind: "bearer-token", thought: "Reproduce the failing request.", command: "cat logs/request.txt",
               output: "GET /v1/items HTTP/1.1\nAuthorization: Bearer abcDEF1234567890fakeSampleBearerTok\n\nHTTP/1.1 401"),
    ]

    /// Adds a step that reveals the secret, placed after the first step.
    static func plant(into t: inout Trajectory, kind: Int, g: inout SeededGenerator) {
        let s = samples[kind]
        let step = Step(index: 0, thought: s.thought,
                        action: Action(tool: "bash", input: .object(["command": .string(s.command)]), command: s.command,
                                       callID: "toolu_secret_\(kind)"),
                        observation: Observation(content: s.output, exitCode: 0))
        let at = min(1, t.steps.count)
        t.steps.insert(step, at: at)
        for i in t.steps.indices { t.steps[i].index = i }
        t.meta["planted_secret"] = .string(s.kind)
    }
}
