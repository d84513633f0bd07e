<?php
/**
 * WordPress-like lab stub for wp-includes/bookmark-template.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'bookmark-template.php';
