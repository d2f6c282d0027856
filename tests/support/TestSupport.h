#pragma once

#include <QDir>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>
#include <QtTest>

#include <string>

namespace diffseg::test {

/// The shared data folder (../shared next to the repository, or $DIFFSEG_SHARED_DIR).
QString sharedDir();
/// Absolute path of `relative` inside the shared folder, or an empty string when it is absent.
QString sharedPath(const QString& relative);
/// Where tests write their outputs (build/Testing/Temporary).
QString outputDir();
/// Committed baseline images (tests/baselines).
QString baselineDir();
/// The build directory (to find executables such as diffseg).
QString binaryDir();
/// A fresh empty folder under outputDir() for one test function.
QString scratchDir(const QString& name);

/// What one run of the diffseg command line left: its exit status (-1: killed after the
/// timeout, -2: crashed), standard output and standard error.
struct CliRun
{
    int exitCode = 0;
    QString out;
    QString err;
};
/// Runs the diffseg command line ($DIFFSEG_CLI) with `args` and waits at most `timeoutMs`.
CliRun runCli(const QStringList& args, int timeoutMs = 120000);

/// A JSON file's top object (empty when it cannot be read or is not an object).
QJsonObject readJson(const QString& path);
/// Each line of `out` as a JSON object (progress events); empty if any line is not one.
QList<QJsonObject> jsonLines(const QString& out);
/// How many of `events` have "event" equal to `name`.
int countEvents(const QList<QJsonObject>& events, const QString& name);
/// The JSON-lines progress that `run` printed when it reads as one whole run: exit status 0, a
/// "start" event first, `cases` "case" events and a "finished" event last; empty otherwise (its
/// out and err say why).
QList<QJsonObject> finishedRunEvents(const CliRun& run, int cases = 1);

/// `s` as the std::string (UTF-8) that core's functions take.
inline std::string str(const QString& s)
{
    return s.toStdString();
}

} // namespace diffseg::test

/// Skips the current test function, with a message, when a shared file or folder is absent.
#define DIFFSEG_REQUIRE_SHARED(var, relative)                                                      \
    const QString var = ::diffseg::test::sharedPath(relative);                                     \
    if (var.isEmpty()) {                                                                           \
        QSKIP(qPrintable(                                                                          \
            QStringLiteral("shared test data not found: %1/%2 (set DIFFSEG_SHARED_DIR)")           \
                .arg(::diffseg::test::sharedDir(), relative)));                                    \
    }
