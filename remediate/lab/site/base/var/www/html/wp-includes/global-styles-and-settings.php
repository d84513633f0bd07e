<?php
/**
 * WordPress-like lab stub for wp-includes/global-styles-and-settings.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'global-styles-and-settings.php';
