/// The version recorded in manifests, run records and cache keys.
public enum SkillforgeVersion {
    public static let current = "0.1.0"
}
