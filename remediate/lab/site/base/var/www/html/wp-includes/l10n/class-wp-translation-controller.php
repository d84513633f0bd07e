<?php
/**
 * WordPress-like lab stub for wp-includes/l10n/class-wp-translation-controller.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'l10n/class-wp-translation-controller.php';
