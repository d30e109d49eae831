; Plex Warden for Windows: the installer (make windows-installer).
;
; Installs for the current user (no administrator prompt) into
; %LocalAppData%\Programs\Plex Warden: the desktop app, the command line,
; a Start-menu shortcut and, if chosen, start at login (HKCU Run).
; The uninstaller removes the program and its shortcuts; the user's
; settings, rules, history (%AppData%\plexwarden) and the server tokens in
; Windows Credential Manager stay unless the user says to delete them (or
; passes /PURGE to a silent uninstall).
;
; Silent use: setup.exe /S [/AUTOSTART] [/D=DIR]
;             Uninstall.exe /S [/PURGE]
;
; Defined by the Makefile: VERSION (numeric, x.y.z), TEXTVERSION, SRCDIR
; (dist/windows), ICON (.ico), OUTFILE.

; A 64-bit installer: the app is 64-bit, and Wine without its 32-bit part
; (Debian's wine64 alone) runs it in the tests.
Target amd64-unicode
ManifestDPIAware true
RequestExecutionLevel user
SetCompressor /SOLID lzma

!include MUI2.nsh
!include FileFunc.nsh
!include LogicLib.nsh
!include x64.nsh

!define APPNAME "Plex Warden"
!define EXE "plexwarden.exe"
!define CLI "plexwarden-headless.exe"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\PlexWarden"
!define RUNKEY "Software\Microsoft\Windows\CurrentVersion\Run"

Name "${APPNAME}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${APPNAME}"
InstallDirRegKey HKCU "${UNINSTKEY}" "InstallLocation"
BrandingText "${APPNAME} ${TEXTVERSION}"

VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${APPNAME}"
VIAddVersionKey "FileDescription" "${APPNAME} installer"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "ProductVersion" "${TEXTVERSION}"
VIAddVersionKey "LegalCopyright" "Plex Warden authors"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\${EXE}"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${APPNAME} now"

!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Var Purge

Section "${APPNAME}" SecApp
  SectionIn RO
  SetOutPath "$INSTDIR"
  File "${SRCDIR}\${EXE}"
  File "${SRCDIR}\${CLI}"
  WriteUninstaller "$INSTDIR\Uninstall.exe"
  CreateShortcut "$SMPROGRAMS\${APPNAME}.lnk" "$INSTDIR\${EXE}" "" "$INSTDIR\${EXE}" 0

  WriteRegStr HKCU "${UNINSTKEY}" "DisplayName" "${APPNAME}"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayVersion" "${TEXTVERSION}"
  WriteRegStr HKCU "${UNINSTKEY}" "Publisher" "Plex Warden authors"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\${EXE}"
  WriteRegStr HKCU "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTKEY}" "UninstallString" '"$INSTDIR\Uninstall.exe"'
  WriteRegStr HKCU "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\Uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKCU "${UNINSTKEY}" "EstimatedSize" $0
SectionEnd

; Off unless chosen on the components page or /AUTOSTART is given.
Section /o "Start at login" SecAutostart
  WriteRegStr HKCU "${RUNKEY}" "PlexWarden" '"$INSTDIR\${EXE}"'
SectionEnd

LangString DESC_App ${LANG_ENGLISH} "The tray app, the plexwarden-headless command line and a Start-menu shortcut."
LangString DESC_Autostart ${LANG_ENGLISH} "Start Plex Warden in the notification area when you sign in to Windows."
!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecApp} $(DESC_App)
  !insertmacro MUI_DESCRIPTION_TEXT ${SecAutostart} $(DESC_Autostart)
!insertmacro MUI_FUNCTION_DESCRIPTION_END

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "${APPNAME} needs 64-bit Windows." /SD IDOK
    Abort
  ${EndIf}
  ${GetParameters} $0
  ClearErrors
  ${GetOptions} $0 "/AUTOSTART" $1
  ${IfNot} ${Errors}
    SectionSetFlags ${SecAutostart} ${SF_SELECTED}
  ${EndIf}
FunctionEnd

Function un.onInit
  StrCpy $Purge 0
  ${GetParameters} $0
  ClearErrors
  ${GetOptions} $0 "/PURGE" $1
  ${IfNot} ${Errors}
    StrCpy $Purge 1
  ${ElseIfNot} ${Silent}
    MessageBox MB_YESNO|MB_ICONQUESTION|MB_DEFBUTTON2 \
      "Also delete your ${APPNAME} settings, rules, history and the server tokens saved in Windows Credential Manager?$\n$\nChoose No to keep them for a later install." \
      IDNO +2
    StrCpy $Purge 1
  ${EndIf}
FunctionEnd

Section "Uninstall"
  ; Stop a running app so its files can go (the command line is not kept running).
  nsExec::Exec 'taskkill /im ${EXE}'
  Sleep 1000
  nsExec::Exec 'taskkill /f /im ${EXE}'
  ${If} $Purge == 1
    ; logout deletes the configured servers' tokens from Credential Manager.
    nsExec::ExecToLog '"$INSTDIR\${CLI}" logout'
    RMDir /r "$APPDATA\plexwarden"
    RMDir /r "$APPDATA\fyne\io.github.plexwarden.plexwarden"
    RMDir /r "$LOCALAPPDATA\fyne\io.github.plexwarden.plexwarden"
  ${EndIf}
  DeleteRegValue HKCU "${RUNKEY}" "PlexWarden"
  Delete "$SMPROGRAMS\${APPNAME}.lnk"
  Delete "$INSTDIR\${EXE}"
  Delete "$INSTDIR\${CLI}"
  Delete "$INSTDIR\Uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKCU "${UNINSTKEY}"
SectionEnd
