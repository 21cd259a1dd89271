namespace Portal.App.Hosting;

/// <summary>A configuration or environment problem that stops start-up; its message is shown as is, without a stack trace.</summary>
public sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);
