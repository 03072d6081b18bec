using System.Text.RegularExpressions;
using SitMessenger.Api.Infrastructure;

namespace SitMessenger.Api.Accounts;

/// <summary>Django's username and password rules, with its messages, which the web client shows as they are.</summary>
internal static partial class AccountRules
{
    public const int MaxUsernameLength = 150;
    public const int MinPasswordLength = 8;

    // A short list of the passwords tried first by every guesser; Django ships 20,000, the top of it is what matters.
    private static readonly HashSet<string> CommonPasswords = new(StringComparer.OrdinalIgnoreCase)
    {
        "password", "password1", "password123", "12345678", "123456789", "1234567890", "qwertyuiop", "qwerty123",
        "iloveyou", "sunshine", "princess", "football", "baseball", "welcome1", "welcome123", "abc12345", "letmein1",
        "trustno1", "superman", "starwars", "whatever", "passw0rd", "p@ssw0rd", "admin123", "administrator",
        "11111111", "00000000", "88888888", "87654321", "qwertyui", "asdfghjk", "zxcvbnm1", "1q2w3e4r", "1qaz2wsx",
        "dragon12", "monkey12", "master12", "shadow12", "michael1", "jennifer", "computer", "internet", "corvette",
        "mercedes", "chocolate", "changeme", "secret12", "letmein!", "qwerty12", "qazwsxedc", "q1w2e3r4", "aaaaaaaa",
    };

    [GeneratedRegex(@"^[\w.@+-]+$")]
    private static partial Regex UsernamePattern();

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    private static partial Regex EmailPattern();

    public static void CheckUsername(string username, FieldErrors errors)
    {
        if (username.Length > MaxUsernameLength)
        {
            errors.Add("username", $"Ensure this field has no more than {MaxUsernameLength} characters.");
        }
        else if (!UsernamePattern().IsMatch(username))
        {
            errors.Add("username", "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.");
        }
    }

    public static void CheckEmail(string email, FieldErrors errors)
    {
        if (email.Length > 254 || !EmailPattern().IsMatch(email))
        {
            errors.Add("email", "Enter a valid email address.");
        }
    }

    public static void CheckPassword(string password, string username, FieldErrors errors)
    {
        if (password.Length < MinPasswordLength)
        {
            errors.Add("password", $"This password is too short. It must contain at least {MinPasswordLength} characters.");
        }

        if (password.All(char.IsDigit))
        {
            errors.Add("password", "This password is entirely numeric.");
        }

        if (CommonPasswords.Contains(password))
        {
            errors.Add("password", "This password is too common.");
        }

        if (IsSimilar(password, username))
        {
            errors.Add("password", "The password is too similar to the username.");
        }
    }

    private static bool IsSimilar(string password, string username)
    {
        if (username.Length < 3)
        {
            return false;
        }

        return password.Contains(username, StringComparison.OrdinalIgnoreCase)
            || username.Contains(password, StringComparison.OrdinalIgnoreCase);
    }
}
