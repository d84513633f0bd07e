<?php
/**
 * WordPress-like lab stub for wp-includes/theme-templates.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'theme-templates.php';
