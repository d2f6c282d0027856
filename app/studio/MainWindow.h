#pragma once

#include <QMainWindow>
#include <QString>

class QDockWidget;
class QLabel;

namespace diffseg::widgets {
class ImageView;
class VolumeView3D;
} // namespace diffseg::widgets

namespace diffseg::app {

/// The DiffSeg Studio main window: the 2D view in the centre, the 3D view in a dock, menus and a
/// status bar. Owns its child widgets (Qt parent ownership). GUI thread only.
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    /// Opens an image into the 2D view. Returns false (after telling the user why, unless
    /// `quiet`) when the file cannot be read.
    bool openPath(const QString& path, bool quiet = false);
    /// Shows the generated sample lesion image and CT phantom (used until the demo data lands).
    void openSamples();

    widgets::ImageView* imageView() const { return m_imageView; }
    widgets::VolumeView3D* volumeView() const { return m_volumeView; }
    QDockWidget* volumeDock() const { return m_volumeDock; }

    /// Rich text for Help > About: versions of Qt, VTK, ITK, LibTorch, OpenCV and CUDA status.
    static QString aboutText();

public Q_SLOTS:
    void showAbout();
    void openWithDialog();

protected:
    void dragEnterEvent(QDragEnterEvent* e) override;
    void dropEvent(QDropEvent* e) override;

private:
    void createMenus();
    void showPixelInfo(const QPoint& pixel, bool inside);

    widgets::ImageView* m_imageView = nullptr;
    widgets::VolumeView3D* m_volumeView = nullptr;
    QDockWidget* m_volumeDock = nullptr;
    QLabel* m_pixelLabel = nullptr;
    QLabel* m_glLabel = nullptr;
    QString m_currentPath;
};

} // namespace diffseg::app
