using System.Text.Json;

namespace SitMessenger.UnitTests.Crypto;

/// <summary>Loads the fernet/spec JSON vectors into theory rows, one row per vector so each shows up on its own.</summary>
internal static class FernetSpecVectors
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static TheoryData<string, DateTimeOffset, byte[], string, string> Generate()
    {
        var rows = new TheoryData<string, DateTimeOffset, byte[], string, string>();
        foreach (var v in Load<GenerateVector>("generate.json"))
        {
            rows.Add(v.Token, v.Now, [.. v.Iv.Select(b => (byte)b)], v.Src, v.Secret);
        }

        return rows;
    }

    public static TheoryData<string, DateTimeOffset, int, string, string> Verify()
    {
        var rows = new TheoryData<string, DateTimeOffset, int, string, string>();
        foreach (var v in Load<VerifyVector>("verify.json"))
        {
            rows.Add(v.Token, v.Now, v.TtlSec, v.Src, v.Secret);
        }

        return rows;
    }

    public static TheoryData<string, string, DateTimeOffset, int, string> Invalid()
    {
        var rows = new TheoryData<string, string, DateTimeOffset, int, string>();
        foreach (var v in Load<InvalidVector>("invalid.json"))
        {
            rows.Add(v.Desc, v.Token, v.Now, v.TtlSec, v.Secret);
        }

        return rows;
    }

    private static List<T> Load<T>(string file)
    {
        using var stream = File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Vectors", file));
        var vectors = JsonSerializer.Deserialize<List<T>>(stream, Json);
        return vectors is { Count: > 0 } ? vectors : throw new InvalidDataException($"{file} holds no vectors.");
    }

    private sealed record GenerateVector(string Token, DateTimeOffset Now, int[] Iv, string Src, string Secret);

    private sealed record VerifyVector(string Token, DateTimeOffset Now, int TtlSec, string Src, string Secret);

    private sealed record InvalidVector(string Desc, string Token, DateTimeOffset Now, int TtlSec, string Secret);
}
