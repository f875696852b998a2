import Foundation
import Trajectories

/// Keeps or drops trajectories by outcome, reward, length, tools and task text.
public struct TrajectoryFilter: Sendable {
    public var statuses: Set<Outcome.Status>?
    public var minReward: Double?
    public var maxReward: Double?
    public var minSteps: Int?
    public var maxSteps: Int?
    public var tools: Set<String>?
    let taskRegex: SecretRedactor.Regex?

    public init(statuses: Set<Outcome.Status>? = nil, minReward: Double? = nil, maxReward: Double? = nil,
                minSteps: Int? = nil, maxSteps: Int? = nil, tools: Set<String>? = nil, taskRegex: String? = nil) {
        self.statuses = statuses
        self.minReward = minReward
        self.maxReward = maxReward
        self.minSteps = minSteps
        self.maxSteps = maxSteps
        self.tools = tools
        self.taskRegex = taskRegex.map(SecretRedactor.Regex.init)
    }

    /// nil when `t` passes, else the name of the first criterion it fails (for the build summary).
    public func rejection(_ t: Trajectory) -> String? {
        if let statuses, !statuses.contains(t.outcome.status) { return "outcome" }
        if minReward != nil || maxReward != nil {
            // A trajectory without a reward cannot be shown to be in range.
            guard let r = t.outcome.reward else { return "reward" }
            if let lo = minReward, r < lo { return "reward" }
            if let hi = maxReward, r > hi { return "reward" }
        }
        if let lo = minSteps, t.steps.count < lo { return "steps" }
        if let hi = maxSteps, t.steps.count > hi { return "steps" }
        if let tools, !t.toolsUsed.contains(where: tools.contains) { return "tools" }
        if let re = taskRegex?.re {
            let range = NSRange(t.task.startIndex..., in: t.task)
            if re.firstMatch(in: t.task, range: range) == nil { return "task_regex" }
        }
        return nil
    }
}
