using Microsoft.Extensions.Options;

namespace Coordination.Client;

/// <summary>Checks <see cref="CoordinationClientOptions"/> when the options are first used (or at start with ValidateOnStart).</summary>
internal sealed class CoordinationClientOptionsValidator : IValidateOptions<CoordinationClientOptions>
{
    public ValidateOptionsResult Validate(string? name, CoordinationClientOptions options)
    {
        var errors = Problems(options).ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public static void ThrowIfInvalid(CoordinationClientOptions options)
    {
        var errors = Problems(options).ToList();
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(nameof(CoordinationClientOptions), typeof(CoordinationClientOptions), errors);
        }
    }

    private static IEnumerable<string> Problems(CoordinationClientOptions options)
    {
        if (options.Endpoints.Count == 0)
        {
            yield return "Endpoints: at least one endpoint is required.";
        }

        foreach (var endpoint in options.Endpoints)
        {
            var normalized = Transport.ChannelFactory.Normalize(endpoint);
            if (!Uri.TryCreate(normalized, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                yield return $"Endpoints: '{endpoint}' is not an http(s) URL or host:port.";
            }
        }

        if (options.Password is not null && string.IsNullOrEmpty(options.Username))
        {
            yield return "Password is set without Username.";
        }

        if (options.ClientCertificateFile is not null != options.ClientKeyFile is not null)
        {
            yield return "ClientCertificateFile and ClientKeyFile go together.";
        }

        if (options.CallTimeout <= TimeSpan.Zero)
        {
            yield return "CallTimeout must be positive.";
        }

        if (options.MaxRetries < 0)
        {
            yield return "MaxRetries must not be negative.";
        }
    }
}
