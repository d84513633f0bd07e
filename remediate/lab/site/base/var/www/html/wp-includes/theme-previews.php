<?php
/**
 * WordPress-like lab stub for wp-includes/theme-previews.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'theme-previews.php';
