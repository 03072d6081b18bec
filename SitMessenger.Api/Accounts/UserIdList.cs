using SitMessenger.Api.Infrastructure;

namespace SitMessenger.Api.Accounts;

/// <summary>The web client sends user ids as one comma-separated string ("uuid, uuid").</summary>
internal static class UserIdList
{
    public static List<Guid> Parse(string field, string? value, FieldErrors errors)
    {
        if (value is null)
        {
            errors.Add(field, DrfErrors.Required);
            return [];
        }

        var ids = new List<Guid>();
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (Guid.TryParse(part, out var id))
            {
                ids.Add(id);
            }
            else
            {
                errors.Add(field, $"\"{Truncate(part)}\" is not a valid UUID.");
            }
        }

        return [.. ids.Distinct()];
    }

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "...";
}
