namespace SitMessenger.Api.Infrastructure;

/// <summary>Error bodies in the Django REST framework shapes the SIT web client reads.</summary>
internal static class DrfErrors
{
    public const string NotFoundDetail = "Not found.";
    public const string Required = "This field is required.";
    public const string Blank = "This field may not be blank.";
    public const string NotAString = "Not a valid string.";

    public static DetailBody Detail(string detail) => new(detail);

    public static NotFound<DetailBody> NotFound() => TypedResults.NotFound(new DetailBody(NotFoundDetail));

    public static BadRequest<Dictionary<string, string[]>> Fields(FieldErrors errors) => TypedResults.BadRequest(errors.ToDictionary());

    public static BadRequest<Dictionary<string, string[]>> Field(string field, string message) =>
        TypedResults.BadRequest(new Dictionary<string, string[]> { [field] = [message] });
}

internal sealed record DetailBody(string Detail);

internal sealed record TokenErrorBody(string Detail, string Code);

/// <summary>Validation errors collected per field, in the order they were found.</summary>
internal sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var messages))
        {
            _errors[field] = messages = [];
        }

        messages.Add(message);
    }

    /// <summary>The field's trimmed text, or null after recording why there is none.</summary>
    public string? RequireText(string field, string? value, bool trim = true)
    {
        if (value is null)
        {
            Add(field, DrfErrors.Required);
            return null;
        }

        var text = trim ? value.Trim() : value;
        if (text.Length == 0)
        {
            Add(field, DrfErrors.Blank);
            return null;
        }

        return text;
    }

    public Dictionary<string, string[]> ToDictionary() => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
}
