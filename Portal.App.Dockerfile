# Multi-stage build of Portal.App (used by docker-compose.yml). The build and publish commands are the
# ones test.sh runs (`dotnet build -c Release`); publish includes the extracted blazor.web.js.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish Portal.App/Portal.App.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
# Stored documents must be readable by nginx (another container): files are created 0644.
RUN mkdir -p /var/lib/portal/storage && chown app /var/lib/portal/storage
USER app
ENV ASPNETCORE_URLS=http://0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["dotnet", "Portal.App.dll"]
