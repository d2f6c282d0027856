#include "TestSupport.h"
#include "runtime/ResourcePaths.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QtTest>

#include <cstdlib>

using namespace diffseg::core;

/// resourceDir(): the installed layout next to the executable, the source tree from a build
/// folder, and the environment override.
class TestResourcePaths : public QObject
{
    Q_OBJECT

private:
    static QString canonical(const QString& path) { return QFileInfo(path).canonicalFilePath(); }

private Q_SLOTS:
    void init() { qunsetenv("DIFFSEG_RESOURCE_DIR"); }

    void installedLayoutNextToTheExecutable()
    {
        const QString root = diffseg::test::scratchDir(QStringLiteral("resource_paths_installed"));
        QVERIFY(QDir(root).mkpath(QStringLiteral("usr/bin")));
        QVERIFY(QDir(root).mkpath(QStringLiteral("usr/share/diffseg-studio/models")));
        QFile exe(root + QStringLiteral("/usr/bin/diffseg"));
        QVERIFY(exe.open(QIODevice::WriteOnly));
        exe.close();
        const std::string dir =
            resourceDirFor((root + QStringLiteral("/usr/bin/diffseg")).toStdString());
        QCOMPARE(QString::fromStdString(dir),
                 canonical(root + QStringLiteral("/usr/share/diffseg-studio")));
        // A symbolic link to the executable elsewhere resolves to the installed tree too.
        QVERIFY(QDir(root).mkpath(QStringLiteral("links")));
        QVERIFY(QFile::link(root + QStringLiteral("/usr/bin/diffseg"),
                            root + QStringLiteral("/links/diffseg")));
        QCOMPARE(QString::fromStdString(
                     resourceDirFor((root + QStringLiteral("/links/diffseg")).toStdString())),
                 canonical(root + QStringLiteral("/usr/share/diffseg-studio")));
    }

    void buildFolderFallsBackToTheSourceTree()
    {
        const QString root = diffseg::test::scratchDir(QStringLiteral("resource_paths_build"));
        QVERIFY(QDir(root).mkpath(QStringLiteral("app/cli")));
        const QString source = canonical(QStringLiteral(DIFFSEG_TEST_SOURCE_RESOURCE_DIR));
        QVERIFY(!source.isEmpty());
        QCOMPARE(QString::fromStdString(
                     resourceDirFor((root + QStringLiteral("/app/cli/diffseg")).toStdString())),
                 source);
        QCOMPARE(QString::fromStdString(resourceDirFor("")), source);
        // This test runs from the build folder.
        QCOMPARE(QString::fromStdString(resourceDir()), source);
        QVERIFY(QFileInfo(QString::fromStdString(executablePath())).isExecutable());
    }

    void resourcePathFindsFiles()
    {
        const QString config =
            QString::fromStdString(resourcePath("configs/dermosegdiff/small-cpu.yaml"));
        QVERIFY(QFileInfo(config).isFile());
        QVERIFY(resourcePath("no/such/file.yaml").empty());
        QCOMPARE(resourcePath(""), resourceDir());
    }

    void environmentOverrides()
    {
        const QString dir = diffseg::test::scratchDir(QStringLiteral("resource_paths_env"));
        qputenv("DIFFSEG_RESOURCE_DIR", (dir + QStringLiteral("/")).toLocal8Bit());
        QCOMPARE(QString::fromStdString(resourceDir()), canonical(dir));
        // A folder that does not exist is ignored.
        qputenv("DIFFSEG_RESOURCE_DIR", QByteArrayLiteral("/no/such/folder"));
        QCOMPARE(QString::fromStdString(resourceDir()),
                 canonical(QStringLiteral(DIFFSEG_TEST_SOURCE_RESOURCE_DIR)));
        qunsetenv("DIFFSEG_RESOURCE_DIR");
    }
};

QTEST_GUILESS_MAIN(TestResourcePaths)
#include "TestResourcePaths.moc"
