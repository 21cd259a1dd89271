# Multi-stage build of Portal.App (used by docker-compose.yml). The build and publish commands are the
# ones test.sh runs (`dotnet build -c Release`); the SDK brings blazor.web.js into the publish output.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# Set by BuildKit (docker compose build): amd64 or arm64, which `dotnet publish -a` understands.
ARG TARGETARCH
WORKDIR /src
COPY . .
# ReadyToRun: the app's and its packages' code is compiled ahead of time, so a (re)started instance answers sooner
# and reaches full speed in about half the time (docs/benchmarks.md, "Start-up and warm-up").
RUN dotnet publish Portal.App/Portal.App.csproj -c Release -a $TARGETARCH -p:PublishReadyToRun=true -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
# Stored documents must be readable by nginx (another container): files are created 0644.
RUN mkdir -p /var/lib/portal/storage && chown app /var/lib/portal/storage
USER app
ENV ASPNETCORE_URLS=http://0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["dotnet", "Portal.App.dll"]
